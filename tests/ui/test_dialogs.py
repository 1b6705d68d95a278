"""Dialogs show all they say, name their keys, and never offer what was just refused."""

from __future__ import annotations

import ast
from pathlib import Path

from textual.containers import VerticalScroll
from textual.widgets import Button, Input, OptionList, Select, Static

from tests.ui.conftest import MakeApp, Opened, command, fleet_of, notes, settle
from vdctui.ui.actions import lifecycle_question
from vdctui.ui.app import VdcApp
from vdctui.ui.dialogs import (
    ConfirmDialog,
    CreateDialog,
    MessageDialog,
    MigrateDialog,
)
from vdctui.ui.screens.vms import VmsScreen

UI = Path(__file__).resolve().parents[2] / "vdctui" / "ui"


def text_of(widget: Static) -> str:
    return str(widget.content)


def buttons(app: VdcApp) -> list[str]:
    return [str(b.label) for b in app.screen.query(Button)]


async def test_balance_lists_every_move_scrollable(make_app: MakeApp) -> None:
    app = make_app(hosts=16, vms=120)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await command(pilot, "balance power 5")
        dialog = app.screen
        assert isinstance(dialog, ConfirmDialog)
        moves = len(dialog.question.body)
        assert moves > 5
        body = dialog.query_one(VerticalScroll)
        shown = text_of(body.query_one(Static))
        assert shown.count("->") >= moves - 1  # every move, not the first five
        assert body.virtual_size.height >= moves
        # the buttons are on screen, below the scrolled body, whatever its length
        for button in dialog.query(Button):
            assert dialog.region.contains_region(button.region) and button.region.height
        await pilot.press("pagedown")
        await settle(pilot)
        assert body.scroll_y > 0 or body.virtual_size.height <= body.size.height


async def test_a_refused_maintenance_says_why_and_offers_only_close(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        fleet = fleet_of(app)
        host = next(h for h in sorted(fleet.hosts) if len(fleet.vms_on(h)) > 1)
        for other in fleet.hosts:  # nowhere to go: every VM of `host` is stuck
            if other != host:
                fleet.partition_host(other)
        await app.ops.sync()
        plan = app.ops.plan_maintenance(host)
        assert len(plan.stuck) > 1
        await command(pilot, f"maintenance {host}")
        dialog = app.screen
        assert isinstance(dialog, MessageDialog)
        assert buttons(app) == ["Close (Enter, Esc)"]
        said = text_of(dialog.query_one(".title", Static)) + text_of(
            dialog.query_one("#body Static", Static)
        )
        assert all(s.vm in said and s.reason in said for s in plan.stuck)
        await pilot.press("enter")
        await settle(pilot)
        assert not isinstance(app.screen, MessageDialog)
        assert host not in app.ops.hosts_in_maintenance()


async def test_confirm_names_its_keys_and_enter_is_not_a_silent_no(opened: Opened) -> None:
    app, pilot, _ = opened
    await pilot.press("2", "slash", *"state:running", "enter")
    await settle(pilot)
    screen = app.screen
    assert isinstance(screen, VmsScreen)
    name = screen._page[0].name
    await pilot.press("d")
    await settle(pilot)
    dialog = app.screen
    assert isinstance(dialog, ConfirmDialog)
    assert buttons(app) == ["Destroy (y)", "Cancel (n, Esc)"]
    assert (
        dialog.question.title == f"Destroy {name}? It loses power at once, like pulling the plug."
    )
    await pilot.press("enter")  # the focused, safe button: said, not silent
    await settle(pilot)
    assert fleet_of(app).vms[name].state == "running"
    assert any("nothing changed" in n for n in notes(app))
    assert not any("hidden by the filter" in n for n in notes(app))  # nothing was marked


def test_the_question_fits_one_vm_or_several() -> None:
    one = lifecycle_question("destroy", ["t1-01"])
    assert one.title == "Destroy t1-01? It loses power at once, like pulling the plug."
    several = lifecycle_question("stop", ["a", "b", "c"])
    assert several.title == "Stop 3 VMs? Each guest is asked to shut down."
    assert several.body == ("a", "b", "c")


async def test_migrate_shows_scores_and_the_excluded_hosts_reachable(opened: Opened) -> None:
    app, pilot, fleet = opened
    vm = next(v for v in sorted(fleet.vms) if fleet.vms[v].state == "running")
    cut_off = next(h for h in sorted(fleet.hosts) if h != fleet.vms[vm].host)
    fleet.partition_host(cut_off)  # it cannot take the VM now
    await app.ops.sync()
    await command(pilot, f"migrate {vm}")
    dialog = app.screen
    assert isinstance(dialog, MigrateDialog)
    fit = dialog.query_one("#fit", OptionList)
    assert "score" in str(fit.get_option_at_index(0).prompt)
    excluded = [t for t in dialog.targets if t.reason is not None]
    assert cut_off in [t.host.name for t in excluded]
    await pilot.press("tab")
    await settle(pilot)
    assert app.focused is dialog.query_one("#excluded", OptionList)
    await pilot.press("enter")
    await settle(pilot)
    assert app.screen is dialog  # an excluded host is explained, not chosen
    why = text_of(dialog.query_one("#why", Static))
    assert excluded[0].host.name in why and str(excluded[0].reason) in why


async def test_create_keeps_what_was_typed_and_enter_in_count_creates(opened: Opened) -> None:
    app, pilot, _ = opened
    await pilot.press("2", "n")
    await settle(pilot)
    dialog = app.screen
    assert isinstance(dialog, CreateDialog)
    await pilot.press(*"newvm", "tab", "enter")  # open the flavors ...
    await settle(pilot)
    await pilot.press("escape")  # ... and choose none
    await settle(pilot)
    assert app.screen is dialog
    await pilot.click("#ok")
    await settle(pilot)
    assert app.screen is dialog
    assert dialog.query_one("#name", Input).value == "newvm"
    assert "flavor" in text_of(dialog.query_one("#why", Static))
    dialog.query_one("#flavor", Select).value = app.ops.flavors()[0].name
    dialog.query_one("#pool", Select).value = app.ops.pools()[0].pool.name
    dialog.query_one("#count", Input).focus()
    await pilot.press("backspace", "2", "enter")
    await settle(pilot)
    assert not isinstance(app.screen, CreateDialog)
    assert len([v for v in fleet_of(app).vms if v.startswith("newvm")]) == 2, notes(app)


def test_no_dialog_acts_by_itself() -> None:
    """Dialogs return a value; the app and the Console are the callers' business."""
    for path in (UI / "dialogs").glob("*.py"):
        tree = ast.parse(path.read_text())
        names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        attrs = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
        assert "Console" not in names, path
        assert not {"act", "ops", "notify", "push_screen"} & attrs, path


async def test_create_from_the_command_line_keeps_name_and_flavor(opened: Opened) -> None:
    app, pilot, _ = opened
    flavor = app.ops.flavors()[1].name
    await command(pilot, f"create newvm {flavor}")
    dialog = app.screen
    assert isinstance(dialog, CreateDialog)
    assert dialog.query_one("#name", Input).value == "newvm"
    assert dialog.query_one("#flavor", Select).value == flavor
