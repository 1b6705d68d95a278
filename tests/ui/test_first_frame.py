"""The inventory's first frame reads each rack's totals, not every host: hosts, what
their VMs hold and when they answered are read right after it, and change nothing shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.conftest import Vdctui
from tests.ui.conftest import SIZE, settle
from vdctui.ui.launch import console_app
from vdctui.ui.screens.host_detail import rack_label, rack_totals
from vdctui.ui.screens.inventory import InventoryScreen


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "vdctui.db"
    built = Vdctui(path)("emulate", "--hosts", "12", "--vms", "30", "--seed", "3", "--for", "1m")
    assert built.exit_code == 0, built.output
    return path


async def test_the_first_frame_reads_no_host_and_its_rack_lines_hold(db: Path) -> None:
    app = console_app(db)
    screen_reads: list[bool] = []  # for each read of every host: was the frame drawn?
    hosts = app.ops.hosts

    def reading_hosts():  # type: ignore[no-untyped-def]
        screen_reads.append(app.first_painted_at is not None)
        return hosts()

    app.ops.hosts = reading_hosts  # type: ignore[method-assign]
    labels_at_paint: dict[object, str] = {}
    labels_of_hosts: dict[object, str] = {}  # what every host read then adds up to
    painted = app.painted

    def noting_labels() -> None:
        screen = app.screen
        assert isinstance(screen, InventoryScreen)
        every = hosts()
        for rack in app.ops.topology().racks:
            totals = rack_totals([h for h in every if h.rack == rack.name])
            labels_of_hosts[("rack", rack.name)] = str(rack_label(rack, totals))
        for node in screen._all_nodes():
            labels_at_paint[node.data] = str(node.label)
        painted()

    app.painted = noting_labels  # type: ignore[method-assign]
    async with app.run_test(size=SIZE) as pilot:
        while app.first_painted_at is None:
            await pilot.pause(0.01)
        screen = app.screen
        assert isinstance(screen, InventoryScreen)
        racks = {d for d in labels_at_paint if isinstance(d, tuple) and d[0] == "rack"}
        assert racks and all("kW" in labels_at_paint[r] for r in racks)
        assert {r: labels_at_paint[r] for r in racks} == labels_of_hosts
        await pilot.pause()
        assert screen._hosts_read  # read right after the first frame
        assert screen_reads and screen_reads[0]  # not before it
        await settle(pilot)
        await app.ops.close()
