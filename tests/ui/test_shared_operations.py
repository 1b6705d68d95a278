"""Changes made of several steps, handed to the process that holds the embedded fleet
(issue 10): host maintenance (its evacuation's progress followed, Ctrl-C cancelling it
where it runs), host power, HA fence and restart, balance --apply and a service's
drain, each typed in another process; and Ctrl-C on a quick change the holder took.

Real processes: a console (Pilot) holds the fleet; the commands run as `vdctui`
processes on the same --db. Every wait is for a condition, never a time."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import make_busy
from tests.ui.conftest import SIZE, fleet_of, settle
from tests.ui.processes import emulating, said, started, vdctui
from tests.ui.test_shared_fleet import ENOUGH, connected, db
from vdctui import fleet_serving
from vdctui.fleet_serving import RequestServer
from vdctui.ops.requests import perform
from vdctui.store.requests import CANCELLING, TAKEN
from vdctui.ui.launch import console_app

__all__ = ["db"]  # the fixture


async def test_maintenance_power_ha_and_balance_are_handed_to_the_holder(db: Path) -> None:
    app = console_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await connected(app, pilot)
        assert not app.ops.follows_store  # this process holds the fleet
        fleet = fleet_of(app)
        host = next(h for h in sorted(fleet.hosts) if fleet.vms_on(h))
        code, out, err = await vdctui(db, "host", "maintenance", host, "--yes")
        assert code == 0, err
        assert "carries out your changes" in err and "Traceback" not in err
        assert f"Host {host} is in maintenance" in out
        assert "moved" in err  # the evacuation's progress, followed here
        assert not fleet.vms_on(host) and app.ops.store.in_maintenance(host)
        code, out, err = await vdctui(db, "host", "maintenance", host, "--exit")
        assert code == 0 and not app.ops.store.in_maintenance(host), err
        # --drain is the asker's own policy: refused (audited), never dropped on the way
        code, out, err = await vdctui(db, "host", "maintenance", host, "--drain", "--yes")
        assert code == 1 and "--drain cannot be handed to the process" in err, err
        assert not app.ops.store.in_maintenance(host)
        victim = next(h for h in sorted(fleet.hosts) if fleet.vms_on(h) and h != host)
        code, out, err = await vdctui(db, "ha", "fence", victim, "--yes")
        assert code == 0, err
        assert fleet.hosts[victim].state != "up"  # the holder's own fleet
        code, out, err = await vdctui(db, "ha", "restart", victim, "--yes")
        assert code == 0, err
        assert "restarted on" in out
        code, out, err = await vdctui(db, "host", "power", "on", victim, "--yes")
        assert code == 0, err
        code, out, err = await vdctui(db, "balance", "--apply", "--yes")
        assert code == 0, err
        audit = {(r.action, r.target, r.result) for r in app.ops.audit(limit=200)}
        for action, target in (
            ("host.maintenance.enter", host),
            ("host.power-off", victim),
            ("ha.restart-host", victim),
            ("host.power-on", victim),
        ):
            assert (action, target, "ok") in audit, action


async def test_ctrl_c_cancels_an_evacuation_where_it_runs(db: Path) -> None:
    app = console_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await connected(app, pilot)
        fleet = fleet_of(app)
        host = next(h for h in sorted(fleet.hosts) if fleet.vms_on(h))
        for vm in fleet.vms_on(host):
            make_busy(fleet, vm.name)  # its migrations never converge: still running at Ctrl-C
        proc = await started("--db", str(db), "host", "maintenance", host, "--yes")
        await said(proc, b"Ctrl-C cancels")
        proc.send_signal(signal.SIGINT)
        out, err = await asyncio.wait_for(proc.communicate(), ENOUGH)
        assert proc.returncode == 1, (out, err)
        assert f"Host {host} did not enter maintenance" in err.decode()
        assert "cancelled" in err.decode() and b"Traceback" not in err
        assert not app.ops.store.in_maintenance(host)
        assert fleet.vms_on(host)  # nothing left it
        ends = [r for r in app.ops.audit(limit=50) if r.action == "host.maintenance.end"]
        assert ends and ends[0].target == host and ends[0].result == "cancelled"


async def wait_for_state(  # type: ignore[no-untyped-def]
    app_store, request_state: str, asker: asyncio.subprocess.Process | None = None
) -> int:
    """The newest request in `request_state`, once there is one; what `asker` said if it
    ended before (not a wait to the bound)."""
    deadline = time.monotonic() + ENOUGH
    while True:
        row = app_store._db.execute(
            "SELECT id FROM fleet_requests WHERE state = ? ORDER BY id DESC LIMIT 1",
            [request_state],
        ).fetchone()
        if row is not None:
            return int(row[0])
        if asker is not None and asker.returncode is not None:
            raise AssertionError((asker.returncode, *await asker.communicate()))
        assert time.monotonic() < deadline, f"no request became {request_state}"
        if asker is None:
            await asyncio.sleep(0.05)
        else:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(asker.wait()), 0.05)


@contextmanager
def gated(server: RequestServer, gate: asyncio.Event) -> Iterator[None]:
    """The holder takes requests as usual, but begins carrying one out once `gate` opens."""
    carry_out = server._carry_out

    async def after_the_gate(*args: Any, **kwargs: Any) -> None:
        await gate.wait()
        await carry_out(*args, **kwargs)

    server._carry_out = after_the_gate  # type: ignore[method-assign]
    try:
        yield
    finally:
        gate.set()
        server._carry_out = carry_out  # type: ignore[method-assign]


async def test_ctrl_c_on_a_quick_change_taken_but_not_carried_out_cancels_it(db: Path) -> None:
    app = console_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await connected(app, pilot)
        fleet = fleet_of(app)
        server = app.ops.driver.server  # type: ignore[attr-defined]
        vm = next(n for n, v in sorted(fleet.vms.items()) if v.state == "running")
        store = app.ops.store
        gate = asyncio.Event()
        with gated(server, gate):  # the holder takes it, and begins once the gate opens
            proc = await started("--db", str(db), "vm", "stop", vm, "--yes")
            await wait_for_state(store, TAKEN, proc)
            proc.send_signal(signal.SIGINT)
            await wait_for_state(store, CANCELLING, proc)  # the holder heard the cancel
            gate.set()  # the holder comes to it now
            out, err = await asyncio.wait_for(proc.communicate(), ENOUGH)
        assert proc.returncode == 1, (out, err)
        assert "nothing was changed" in err.decode() and b"Traceback" not in err
        assert fleet.vms[vm].state == "running"


async def test_ctrl_c_too_late_for_a_quick_change_says_it_was_carried_out(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = console_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await connected(app, pilot)
        fleet = fleet_of(app)
        vm = next(n for n, v in sorted(fleet.vms.items()) if v.state == "running")
        store = app.ops.store
        gate = asyncio.Event()

        async def begun_then_gated(*args: Any, **kwargs: Any) -> Any:
            await gate.wait()  # the holder has begun it: a cancel now comes too late
            return await perform(*args, **kwargs)

        monkeypatch.setattr(fleet_serving, "perform", begun_then_gated)
        try:
            proc = await started("--db", str(db), "vm", "suspend", vm)
            await wait_for_state(store, TAKEN, proc)
            proc.send_signal(signal.SIGINT)
            await wait_for_state(store, CANCELLING, proc)  # the holder heard the cancel
        finally:
            gate.set()
        out, err = await asyncio.wait_for(proc.communicate(), ENOUGH)
        assert proc.returncode == 1, (out, err)
        assert "Too late to cancel" in err.decode() and f"suspending a VM ({vm})" in err.decode()
        assert b"Traceback" not in err
        assert fleet.vms[vm].state == "paused"


async def test_a_following_console_hands_host_maintenance_over_and_keeps_drawing(
    db: Path,
) -> None:
    async with emulating(db):
        app = console_app(db)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            assert app.ops.follows_store and not app.read_only
            host = next(h.name for h in app.ops.hosts() if app.ops.vms(host=h.name))
            seen: list[float] = []
            evacuation = asyncio.ensure_future(
                app.ops.enter_maintenance(host, on_progress=lambda e: seen.append(e.percent))
            )
            frames = 0
            deadline = time.monotonic() + ENOUGH
            while not evacuation.done():  # the console's loop goes on meanwhile
                assert time.monotonic() < deadline
                await pilot.pause()
                frames += 1
            done = evacuation.result()
            assert done.total > 0 and len(done.done) == done.total, done.outcome_text()
            assert frames > 1 and seen  # progress followed here, from the other process
            assert app.ops.store.in_maintenance(host)
            assert app.ops.follows_store  # still following: the other process ran it
