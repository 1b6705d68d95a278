"""Long work asked for from the command line (a balance being applied, for minutes on a
real fleet) runs beside the console, not in the command line's own queue: the `:` line
still takes Enter, Backspace and Esc while it runs (it used to freeze until the end)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from tests.ui.conftest import SIZE, settle
from vdctui.ops import balancing
from vdctui.ui.app import VdcApp
from vdctui.ui.dialogs import ConfirmDialog
from vdctui.ui.help import HelpScreen
from vdctui.ui.widgets.command_line import CommandLine

MakeApp = Callable[..., VdcApp]


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
            for _ in range(20):
                await pilot.pause()
                if isinstance(app.screen, ConfirmDialog):
                    break
            assert isinstance(app.screen, ConfirmDialog), "the balancer found nothing to do"
            await pilot.press("y")
            for _ in range(20):
                await pilot.pause()
                if started.is_set():
                    break
            assert started.is_set()
            await pilot.press("colon", *"helpx", "backspace", "enter")
            for _ in range(10):
                await pilot.pause()
            assert isinstance(app.screen, HelpScreen), "the command line did not take Enter"
            await pilot.press("escape")
            await pilot.pause()
            assert not app.screen.query_one(CommandLine).is_open
        finally:
            gate.set()
        await settle(pilot)
