from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

import emulator
from vdctui.backend import BackendError, DemoSize, FleetLock, catch_up, fleet_path, open_console

TINY = DemoSize(hosts=4, vms=12, seed=1)


def test_the_fleet_file_sits_beside_the_db(tmp_path: Path) -> None:
    assert fleet_path(tmp_path / "dc.db") == tmp_path / "dc.fleet.db"
    assert fleet_path(tmp_path / "dc") == tmp_path / "dc.fleet.db"


async def test_first_start_builds_then_reopens(tmp_path: Path) -> None:
    db = tmp_path / "dc.db"
    console = await open_console(db, size=TINY, speed=None)
    await console.sync()
    created = await console.create_vms("keep", flavor="tiny", pool="web")
    await console.close()
    console = await open_console(db, size=DemoSize(hosts=99), speed=None)
    await console.sync()
    assert len(console.hosts()) == 4  # the size applies to a new data center only
    assert console.vm("keep").host == created[0].host
    await console.close()


async def test_one_process_owns_a_data_center(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VDCTUI_FLEET_WAIT_S", "0.3")
    db = tmp_path / "dc.db"
    first = await open_console(db, size=TINY, speed=None)
    with pytest.raises(BackendError, match=r"in use by vdctui pid \d+ \(waited 0 s\)"):
        await open_console(db, size=TINY, speed=None)
    reader = await open_console(db, size=TINY, speed=None, reads=True)  # reads the store
    assert reader.follows_store
    await reader.close()
    await first.close()
    second = await open_console(db, size=TINY, speed=None)  # released on close
    await second.close()


async def test_a_changing_process_waits_for_the_fleet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VDCTUI_FLEET_WAIT_S", "60")
    db = tmp_path / "dc.db"
    first = await open_console(db, size=TINY, speed=None)
    await first.close()
    other = FleetLock(fleet_path(db), db)  # another process's hold, let go in 0.3 s
    other.acquire()
    threading.Timer(0.3, other.release).start()
    second = await open_console(db, size=TINY, speed=None)  # waits, then has it
    await second.close()


def test_catch_up_lives_through_the_closed_time() -> None:
    fleet = emulator.build_demo(seed=1, hosts=4, vms=12, epoch=1000.0)
    vm = next(v for v in fleet.vms.values() if v.state == "running")
    fleet.shutdown_vm(vm.name)
    catch_up(fleet, now=1000.0 + 3600)
    assert fleet.now == pytest.approx(1000.0 + 3600)
    assert fleet.vms[vm.name].state == "shut off"
    assert fleet.summary()["energy_kwh"] > 0


def test_catch_up_never_goes_back() -> None:
    fleet = emulator.build_demo(seed=1, hosts=4, vms=12, epoch=time.time() + 60)
    before = fleet.now
    catch_up(fleet)
    assert fleet.now == before
