"""The console's shell: help, filters reopened and typed, the header's sync state, going back."""

from __future__ import annotations

import asyncio

from textual.widgets import Static

from tests.ui.conftest import SIZE, MakeApp, Opened, command, notes, settle
from vdctui.ops import Failed
from vdctui.ui.app import VdcApp
from vdctui.ui.help import CommandsDialog, HelpScreen
from vdctui.ui.screens.records import AuditScreen
from vdctui.ui.screens.vms import VmsScreen
from vdctui.ui.widgets.command_line import CommandLine
from vdctui.ui.widgets.prompt import Prompt


def help_text(app: VdcApp) -> str:
    screen = app.screen
    assert isinstance(screen, HelpScreen)
    from rich.console import Console

    out = Console(width=200, record=True)
    for static in screen.query(Static):
        out.print(static.content)
    return out.export_text()


async def test_help_shows_keys_filter_syntax_and_commands(opened: Opened) -> None:
    app, pilot, _ = opened
    await pilot.press("2", "question_mark")
    await settle(pilot)
    text = help_text(app)
    assert "Filter" in text and "state:running" in text  # the VMs screen's filter
    assert ":migrate VM [HOST] [cold]" in text and ":resize VM VCPUS|- [MEMORY]" in text
    assert "Destroy" in text  # a key the footer does not show
    assert "Help: VMs" in text and "Focus Next" not in text  # our keys, not Textual's
    await pilot.press("escape")
    await settle(pilot)
    assert isinstance(app.screen, VmsScreen)
    await pilot.press("6")
    await command(pilot, "help")
    text = help_text(app)
    assert "since:" in text and "actor:" in text  # the audit screen's filter
    await pilot.press("escape")
    await settle(pilot)
    assert isinstance(app.screen, AuditScreen)


async def test_reopened_filter_starts_from_the_old_text_selected(opened: Opened) -> None:
    app, pilot, _ = opened
    await pilot.press("2", "slash", *"pool:web", "enter")
    await settle(pilot)
    screen = app.screen
    assert isinstance(screen, VmsScreen) and screen.query_text == "pool:web"
    await pilot.press("slash", *"t1-01")
    await settle(pilot)
    assert screen.query_text == "t1-01"
    assert screen.query_one("#vm-filter", Prompt).value == "t1-01"
    await pilot.press("enter", "slash", "end", *" state:running")
    await settle(pilot)
    assert screen.query_text == "t1-01 state:running"  # an arrow keeps the old text


async def test_audit_filters_as_you_type(opened: Opened) -> None:
    app, pilot, _ = opened
    await command(pilot, "start ghost")
    await command(pilot, "start phantom")
    await pilot.press("6", "slash", *"ghost")
    await settle(pilot)
    screen = app.screen
    assert isinstance(screen, AuditScreen)
    assert [a.target for a in screen.items] == ["ghost"]
    await pilot.press(*" since:so")  # half typed: no error yet, the last good filter stays
    await settle(pilot)
    assert not any("duration" in n for n in notes(app))
    assert [a.target for a in screen.items] == ["ghost"]
    await pilot.press("enter")
    await settle(pilot)
    assert any("not a duration" in n for n in notes(app))


async def test_header_says_syncing_then_when_then_stale(make_app: MakeApp) -> None:
    app = make_app()
    release = asyncio.Event()
    real_sync = app.ops.sync
    failing = False

    async def sync():  # type: ignore[no-untyped-def]
        await release.wait()
        if failing:
            raise Failed("host rk1-h01 does not answer")
        return await real_sync()

    app.ops.sync = sync  # type: ignore[method-assign]
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        header = app.screen.header  # type: ignore[attr-defined]
        assert "syncing…" in str(header.render())
        release.set()
        await settle(pilot)
        assert "synced " in str(header.render()) and " ago" in str(header.render())
        failing = True
        for _ in range(20):  # a sync already under way may still succeed: the next fails
            app._next_sync = 0
            app.sync_fleet()
            await settle(pilot)
            if "STALE" in str(header.render()):
                break
        assert "STALE: last sync" in str(header.render())
        assert "does not answer" in str(header.render())


async def test_escape_clears_the_filter_then_goes_back(opened: Opened) -> None:
    app, pilot, _ = opened
    await pilot.press("4", "6", "slash", *"ghost", "enter")
    await settle(pilot)
    assert app.current_mode == "audit"
    await pilot.press("escape")
    await settle(pilot)
    assert app.current_mode == "audit" and not app.screen.filter_text  # type: ignore[attr-defined]
    await pilot.press("escape")
    await settle(pilot)
    assert app.current_mode == "tasks"
    await pilot.press("escape")
    await settle(pilot)
    assert app.current_mode == "inventory"


async def test_ctrl_a_lists_the_commands_and_starts_one(opened: Opened) -> None:
    app, pilot, _ = opened
    await pilot.press("ctrl+a")
    await settle(pilot)
    assert isinstance(app.screen, CommandsDialog)
    await pilot.press("down", "enter")  # the second: hosts
    await settle(pilot)
    line = app.screen.query_one(CommandLine)
    assert line.is_open and line.value == "hosts "
