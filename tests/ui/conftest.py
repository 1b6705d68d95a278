"""Pilot fixtures: the console app over a small seeded fleet whose clock moves only when asked."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import NamedTuple

import pytest
from textual.app import App
from textual.pilot import Pilot
from textual.worker import WorkerCancelled

import emulator
from vdctui.drivers.emulated import EmulatedDriver
from vdctui.model import Role
from vdctui.ui.app import VdcApp
from vdctui.ui.fixed import fixed_app

SIZE = (160, 48)
MakeApp = Callable[..., VdcApp]  # the make_app fixture: make_app(role=, hosts=, vms=)


@pytest.fixture(autouse=True)
def notes_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every notification an app makes is kept for `notes`, until the app clears them.
    Textual forgets a toast once its timeout has passed in wall time (5 s by default): on
    a slow or loaded machine a test that looked a few seconds later found nothing said."""
    notify, clear = App.notify, App.clear_notifications

    def kept(self: App[object], message: str, **how: object) -> None:
        vars(self).setdefault("_notes_kept", []).append(str(message))
        notify(self, message, **how)  # type: ignore[arg-type]

    def cleared(self: App[object]) -> None:
        vars(self)["_notes_kept"] = []
        clear(self)

    monkeypatch.setattr(App, "notify", kept)
    monkeypatch.setattr(App, "clear_notifications", cleared)


@pytest.fixture
def make_app(tmp_path: Path) -> MakeApp:
    def make(role: Role = Role.ADMIN, hosts: int = 8, vms: int = 40) -> VdcApp:
        return fixed_app(tmp_path / "vdctui.db", hosts=hosts, vms=vms, seed=3, role=role)

    return make


class Opened(NamedTuple):
    """A console running headless at SIZE, its first sync done: the app, the pilot that
    drives it, and its embedded fleet (to change behind the console's back)."""

    app: VdcApp
    pilot: Pilot[None]
    fleet: emulator.Fleet


@pytest.fixture
async def opened(make_app: MakeApp) -> AsyncIterator[Opened]:
    """`make_app()` (8 hosts, 40 VMs, an admin) opened and settled, for the test's body."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        yield Opened(app, pilot, fleet_of(app))


async def settle(pilot: Pilot[None]) -> None:
    """Let the app finish what it started (syncs, actions, dialogs opening)."""
    for _ in range(3):
        await pilot.pause()
        await workers_done(pilot.app)
    await pilot.pause()


async def workers_done(app: App[object]) -> None:
    """Until the app's workers have ended. One the app cancelled (its screen closed, a
    newer read of the same group started) ended as meant: Textual's wait_for_complete
    raised WorkerCancelled for it (seen on CI, a screen's read cancelled as it closed);
    a worker that failed still fails the test."""
    ended = await asyncio.gather(*(w.wait() for w in list(app.workers)), return_exceptions=True)
    for end in ended:
        if isinstance(end, BaseException) and not isinstance(end, WorkerCancelled):
            raise end


async def command(pilot: Pilot[None], line: str) -> None:
    await pilot.press("colon")
    await pilot.pause()
    for char in line:
        await pilot.press(char if char != " " else "space")
    await pilot.press("enter")
    await settle(pilot)


def notes(app: VdcApp) -> list[str]:
    """What the app has notified (as shown: escaped), toasts that expired included."""
    return list(vars(app).get("_notes_kept", []))


def fleet_of(app: VdcApp) -> emulator.Fleet:
    driver = app.ops.driver
    assert isinstance(driver, EmulatedDriver)
    return driver.fleet
