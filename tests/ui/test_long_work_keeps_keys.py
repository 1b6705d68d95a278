"""Long work asked for from the command line (a balance being applied, for minutes on a
real fleet) runs beside the console, not in the command line's own queue: the `:` line
still takes Enter, Backspace and Esc while it runs (it used to freeze until the end)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest
from textual.pilot import Pilot

from tests.ui.conftest import SIZE, MakeApp, settle
from tests.waiting import ENOUGH
from vdctui.ops import balancing
from vdctui.ui.dialogs import ConfirmDialog
from vdctui.ui.help import HelpScreen
from vdctui.ui.widgets.command_line import CommandLine


async def until(pilot: Pilot[None], condition: Callable[[], bool], what: str) -> None:
    """Frames drawn until `condition` holds (the app's workers and keys go on meanwhile)."""
    deadline = time.monotonic() + ENOUGH
    while not condition():
        assert time.monotonic() < deadline, f"never: {what}"
        await pilot.pause()


async def test_the_command_line_works_while_a_balance_applies(
    make_app: MakeApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = asyncio.Event()
    started = asyncio.Event()

    async def slow_apply(console: object, rec: object) -> list[str]:
        started.set()
        await gate.wait()  # as long as the test wants
        return ["done"]

    monkeypatch.setattr(balancing, "apply", slow_apply)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        try:
            await pilot.press("colon", *"balance power 5", "enter")
            await until(pilot, lambda: isinstance(app.screen, ConfirmDialog), "the balance asked")
            await pilot.press("y")
            await until(pilot, started.is_set, "the apply started")
            await pilot.press("colon", *"helpx", "backspace", "enter")
            await until(
                pilot, lambda: isinstance(app.screen, HelpScreen), "the command line took Enter"
            )
            await pilot.press("escape")
            await pilot.pause()
            assert not app.screen.query_one(CommandLine).is_open
        finally:
            gate.set()
        await settle(pilot)
