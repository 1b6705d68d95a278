"""Pilot fixtures: the console app over a small seeded fleet whose clock moves only when asked."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot

from vdctui.drivers.emulated import EmulatedDriver
from vdctui.model import Role
from vdctui.ui.app import VdcApp
from vdctui.ui.fixed import fixed_app

SIZE = (160, 48)


@pytest.fixture
def make_app(tmp_path: Path) -> Callable[..., VdcApp]:
    def make(role: Role = Role.ADMIN, hosts: int = 8, vms: int = 40) -> VdcApp:
        return fixed_app(tmp_path / "vdctui.db", hosts=hosts, vms=vms, seed=3, role=role)

    return make


async def settle(pilot: Pilot[None]) -> None:
    """Let the app finish what it started (syncs, actions, dialogs opening)."""
    for _ in range(3):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def command(pilot: Pilot[None], line: str) -> None:
    await pilot.press("colon")
    await pilot.pause()
    for char in line:
        await pilot.press(char if char != " " else "space")
    await pilot.press("enter")
    await settle(pilot)


def notes(app: VdcApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


def fleet_of(app: VdcApp):  # type: ignore[no-untyped-def]
    driver = app.ops.driver
    assert isinstance(driver, EmulatedDriver)
    return driver.fleet
