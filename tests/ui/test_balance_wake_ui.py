"""`:balance power`: the question lists the hosts the balancer powers on first; applying
it wakes them (power on, answering) before moving VMs onto them."""

from __future__ import annotations

from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Static

import emulator
from tests.conftest import keep_running_vms_busy
from tests.ops.test_balancer_wake import small_fleet
from tests.ui.conftest import SIZE, command, settle
from vdctui.backend import EmulatedClock
from vdctui.drivers.emulated import EmulatedDriver
from vdctui.model import Role
from vdctui.ops import Console, Identity
from vdctui.store import Store
from vdctui.ui.app import Launch, VdcApp
from vdctui.ui.dialogs import ConfirmDialog


def small_fleet_app(tmp_path: Path) -> tuple[emulator.Fleet, VdcApp]:
    """The balancer tests' small fleet, and a console on it as an admin, synced by hand."""
    fleet = small_fleet()
    driver = EmulatedDriver(fleet, speed=None, tick=0.5)
    store = Store(tmp_path / "v.db", clock=lambda: fleet.now)
    console = Console(store, driver, Identity("op", Role.ADMIN))
    clock = EmulatedClock(driver)
    return fleet, VdcApp(
        Launch(console=console, clock=clock, wall_clock=clock.now, sync_every_s=None)
    )


async def apply_balance(pilot: Pilot[None]) -> str:
    """`:balance power 3`, the question's text, then Apply; waits for the balancing."""
    await command(pilot, "balance power 3")
    dialog = pilot.app.screen
    assert isinstance(dialog, ConfirmDialog)
    text = " ".join(str(w.render()) for w in dialog.query(Static))
    await pilot.press("y")
    for _ in range(50):
        await settle(pilot)
        if not pilot.app.ops.tasks(active=True):  # type: ignore[attr-defined]
            break
    return text


async def test_balance_wakes_the_hosts_it_powered_off_before_moving_vms_there(
    tmp_path: Path,
) -> None:
    fleet, app = small_fleet_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await apply_balance(pilot)
        off = {h.name for h in fleet.hosts.values() if h.state == "off"}
        assert len(off) == 3
        keep_running_vms_busy(fleet, 0.9)
        await app.ops.sync()  # the load the next :balance reads
        text = await apply_balance(pilot)
        assert "power on" in text and "first power on: " in text, text
        listed = text.split("first power on: ", 1)[1].split()[0:3]
        named = {h.strip(",") for h in listed if h.strip(",") in off}
        woken = {h for h in off if fleet.hosts[h].state == "up"}
        assert woken and woken == named, text
        assert all(any(v.host == h for v in fleet.vms.values()) for h in woken)
