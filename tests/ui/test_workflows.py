"""The console's workflows, driven with Pilot like an operator at the keyboard."""

from __future__ import annotations

import os
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Button, Checkbox, Static

from tests.ui.conftest import SIZE, MakeApp, Opened, command, fleet_of, notes, settle
from vdctui.model import MigrationOutcome, Role, TaskState
from vdctui.ui.app import VdcApp
from vdctui.ui.dialogs import ConfirmDialog, MigrateDialog, ResizeDialog
from vdctui.ui.dialogs.preflight import PreflightDialog
from vdctui.ui.screens.inventory import InventoryScreen
from vdctui.ui.screens.records import TasksScreen
from vdctui.ui.screens.vms import VmsScreen


async def vms_filtered(pilot: Pilot[None], query: str) -> VmsScreen:
    """Open the VMs screen with a filter typed in, as an operator would."""
    await pilot.press("2", "slash", *query, "enter")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, VmsScreen)
    return screen


async def start_a_slow_migration(pilot: Pilot[None]):  # type: ignore[no-untyped-def]
    """Migrate the first running VM to its best host over a crawling link (it will still
    be running when the test acts on it); returns the VM and the target."""
    app: VdcApp = pilot.app  # type: ignore[assignment]
    fleet = fleet_of(app)
    vm = next(v for v in sorted(fleet.vms.values(), key=lambda v: v.name) if v.state == "running")
    target = next(c.host.name for c in app.ops.migration_candidates(vm.name) if c.reason is None)
    fleet.slow_link(vm.host, 1e-6)
    await command(pilot, f"migrate {vm.name} {target}")
    return vm, target


def status(app: VdcApp) -> str:
    return str(app.screen.query_one("#vm-status", Static).render())


async def test_inventory_walks_down_to_a_host(opened: Opened) -> None:
    app, pilot, _ = opened
    screen = app.screen
    assert isinstance(screen, InventoryScreen)
    await pilot.press("right", "right", "right", "down")  # room -> rack -> its first host
    await settle(pilot)
    assert screen.selected is not None and screen.selected[0] == "host"
    host = screen.selected[1]
    detail = str(screen.query_one("#detail", Static).render())
    assert host in detail and "CPU" in detail and "Memory" in detail and "Rack power" in detail
    assert screen.query_one("#host-vms").display


async def test_filter_vms_as_you_type(opened: Opened) -> None:
    app, pilot, _ = opened
    await pilot.press("2", "slash", *"state:shutoff")
    await settle(pilot)
    screen = app.screen
    assert isinstance(screen, VmsScreen)
    stopped = sum(1 for vm in fleet_of(app).vms.values() if vm.state == "shut off")
    assert f"of {stopped}" in status(app)
    assert screen._page and all(vm.state.value == "shut off" for vm in screen._page)
    await pilot.press("escape")
    await settle(pilot)
    assert "of 40" in status(app)


async def test_paging_past_the_bottom_of_the_page(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=(120, 20)) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, VmsScreen)
        rows = len(screen._page)
        assert rows < 40  # the page is smaller than the list
        first = screen._page[0].name
        await pilot.press(*["down"] * rows)
        await settle(pilot)
        assert screen.first_row == 1 and screen._page[0].name != first
        await pilot.press("end")
        await settle(pilot)
        assert screen._page[-1].name == max(fleet_of(app).vms)


async def test_mark_two_and_start_both(opened: Opened) -> None:
    app, pilot, _ = opened
    screen = await vms_filtered(pilot, "state:shutoff")
    names = [vm.name for vm in screen._page[:2]]
    await pilot.press("space", "space")
    assert screen.marked == set(names)
    await pilot.press("s")
    await settle(pilot)
    assert [fleet_of(app).vms[n].state for n in names] == ["running", "running"]


async def test_destroy_asks_first(opened: Opened) -> None:
    app, pilot, _ = opened
    screen = await vms_filtered(pilot, "state:running")
    name = screen._page[0].name
    await pilot.press("d")
    await settle(pilot)
    assert isinstance(app.screen, ConfirmDialog)
    await pilot.press("n")
    await settle(pilot)
    assert fleet_of(app).vms[name].state == "running"
    await pilot.press("d")
    await settle(pilot)
    await pilot.press("y")
    await settle(pilot)
    assert fleet_of(app).vms[name].state == "shut off"
    assert app.ops.audit(limit=1)[0].action == "vm.destroy"


async def test_migrate_from_the_ranked_candidates(opened: Opened) -> None:
    app, pilot, _ = opened
    screen = await vms_filtered(pilot, "state:running")
    vm = screen._page[0]
    await pilot.press("m")
    await settle(pilot)
    dialog = app.screen
    assert isinstance(dialog, MigrateDialog)
    best = app.ops.migration_candidates(vm.name)[0]
    assert best.reason is None
    await pilot.press("enter")  # the highlighted option: the best-ranked host
    await settle(pilot)
    assert isinstance(app.screen, PreflightDialog)  # each check, the options
    assert not app.screen.report.failed
    await pilot.press("enter")  # Migrate is focused
    await settle(pilot)
    for _ in range(20):  # the clock moves as the migration is followed
        if not app.ops.tasks(active=True):
            break
        await settle(pilot)
    (record,) = app.ops.migrations(vm=vm.name)
    assert record.outcome is MigrationOutcome.SUCCEEDED
    assert fleet_of(app).vms[vm.name].host == best.host.name == record.target


async def test_cancel_a_migration_from_the_tasks_screen(opened: Opened) -> None:
    app, pilot, fleet = opened
    vm, target = await start_a_slow_migration(pilot)
    await pilot.press("4")
    await settle(pilot)
    tasks = app.screen
    assert isinstance(tasks, TasksScreen)
    task = tasks.current()
    assert task is not None and task.kind == "migrate" and task.state is TaskState.RUNNING
    detail = str(tasks.query_one("#task-detail", Static).render())
    assert "phase" in detail and "round" in detail and "left" in detail
    await pilot.press("x")
    await settle(pilot)
    for _ in range(10):
        if app.ops.task(task.id).state.finished:
            break
        await settle(pilot)
    assert app.ops.task(task.id).state is TaskState.CANCELLED
    assert fleet.vms[vm.name].host != target


async def test_resize_dialog_refuses_a_bad_size_as_you_type(opened: Opened) -> None:
    app, pilot, _ = opened
    screen = await vms_filtered(pilot, "state:running")
    vm = screen._page[0]
    await pilot.press("z")
    await settle(pilot)
    dialog = app.screen
    assert isinstance(dialog, ResizeDialog)
    await pilot.press("tab", *["backspace"] * 12, *"99TiB")
    await settle(pilot)
    assert "can have 1 to" in str(dialog.query_one("#why", Static).render())
    assert dialog.query_one("#ok").disabled
    await pilot.press("escape")
    await settle(pilot)
    assert fleet_of(app).vms[vm.name].memory_mib == vm.memory_mib
    await command(pilot, f"resize {vm.name} 9999")
    assert any("can have 1 to" in n for n in notes(app))
    assert app.ops.audit(limit=1)[0].result == "refused"


async def test_read_only_hides_changes_and_refuses_them(make_app: MakeApp) -> None:
    app = make_app(role=Role.VIEWER)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        assert "READ-ONLY" in str(app.screen.header.render())
        shown = {
            b.binding.action
            for b in app.screen.active_bindings.values()
            if app.screen.check_action(b.binding.action.split("(")[0], ()) is not False
        }
        assert not any(action.startswith("lifecycle") for action in shown)
        vm = next(iter(sorted(fleet_of(app).vms)))
        await command(pilot, f"destroy {vm}")
        await pilot.press("y")
        await settle(pilot)
        assert any("read-only" in n for n in notes(app))
        assert app.ops.audit(limit=1)[0].result == "refused"


async def test_audit_export_and_verify(make_app: MakeApp, tmp_path: Path) -> None:
    app = make_app()
    cwd = Path.cwd()
    os.chdir(tmp_path)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await command(pilot, "start ghost")  # a refusal, to have something to export
            await pilot.press("6")
            await settle(pilot)
            await pilot.press("v", "e")
            await settle(pilot)
            assert "chain: intact" in str(app.screen.query_one("#records-status", Static).render())
        exported = list(tmp_path.glob("vdctui-audit-*.csv"))
        assert len(exported) == 1 and "ghost" in exported[0].read_text()
    finally:
        os.chdir(cwd)


async def test_command_line_completes_and_reports_mistakes(opened: Opened) -> None:
    app, pilot, _ = opened
    await pilot.press("colon", *"migrati", "tab")
    await settle(pilot)
    from vdctui.ui.widgets.command_line import CommandLine

    assert app.screen.query_one(CommandLine).value == "migrations "
    await pilot.press("enter")
    await settle(pilot)
    assert app.current_mode == "migrations"
    await command(pilot, "frobnicate")
    assert "No command 'frobnicate'" in str(app.screen.query_one("#command-hint").render())


async def test_help_shows_the_keys(opened: Opened) -> None:
    app, pilot, _ = opened
    await pilot.press("question_mark")
    await settle(pilot)
    from vdctui.ui.help import HelpScreen

    assert isinstance(app.screen, HelpScreen)


async def test_marked_vms_migrate_together(opened: Opened) -> None:
    app, pilot, _ = opened
    screen = await vms_filtered(pilot, "web state:running")
    names = [vm.name for vm in screen._page[:2]]
    await pilot.press("space", "space", "m")
    await settle(pilot)
    assert isinstance(app.screen, MigrateDialog)
    await pilot.press("enter")
    await settle(pilot)
    assert isinstance(app.screen, PreflightDialog)
    await pilot.press("enter")
    await settle(pilot)
    for _ in range(20):
        if not app.ops.tasks(active=True):
            break
        await settle(pilot)
    targets = {fleet_of(app).vms[name].host for name in names}
    assert len(targets) == 1
    assert all(app.ops.migrations(vm=name) for name in names)


async def test_audit_filter_by_time(opened: Opened) -> None:
    app, pilot, _ = opened
    await command(pilot, "start ghost")
    await pilot.press("6", "slash", *"since:1h", "enter")
    await settle(pilot)
    screen = app.screen
    assert [a.target for a in screen.items] == ["ghost"]  # type: ignore[attr-defined]
    await pilot.press("slash", *["backspace"] * 8, *"since:soon", "enter")
    await settle(pilot)
    assert any("not a duration" in n for n in notes(app))


async def test_a_burst_after_slash_goes_into_the_filter(make_app: MakeApp) -> None:
    """A terminal delivers `/web-0` in one read: every key must reach the filter."""
    from textual import events

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        for char in "/web-0":
            app.post_message(events.Key({"/": "slash", "-": "minus"}.get(char, char), char))
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, VmsScreen)
        assert screen.query_text == "web-0"


async def test_maintenance_from_the_command_line(opened: Opened) -> None:
    app, pilot, fleet = opened
    host = next(
        h for h in sorted(fleet.hosts) if not app.ops.plan_maintenance(h).stuck and fleet.vms_on(h)
    )
    await command(pilot, f"maintenance {host}")
    assert isinstance(app.screen, ConfirmDialog)
    await pilot.press("y")
    for _ in range(30):
        await settle(pilot)
        if host in app.ops.hosts_in_maintenance():
            break
    assert host in app.ops.hosts_in_maintenance()
    assert not [vm for vm in fleet.vms_on(host) if vm.state != "shut off"]
    await pilot.press("1")
    await settle(pilot)
    screen = app.screen
    assert isinstance(screen, InventoryScreen)
    assert "maintenance" in str(screen._badges(screen._hosts[host]))


async def test_quit_with_a_running_migration_asks_then_cancels_it(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        fleet = fleet_of(app)
        vm, target = await start_a_slow_migration(pilot)
        await pilot.press("q")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("y")
        await settle(pilot)
    from vdctui.store import Store

    (record,) = Store(app.ops.store.path).migrations(vm=vm.name)  # the app closed its own
    assert record.outcome is MigrationOutcome.CANCELLED
    assert fleet.vms[vm.name].host != target


async def test_fence_a_cut_off_host_then_restart_its_vms(opened: Opened) -> None:
    app, pilot, fleet = opened
    host = next(
        h for h in sorted(fleet.hosts) if any(v.state == "running" for v in fleet.vms_on(h))
    )
    running = [v.name for v in fleet.vms_on(host) if v.state == "running"]
    fleet.partition_host(host)  # cut off: it may still run its VMs
    await app.ops.sync()
    await command(pilot, f"restart-vms {host}")
    assert any("not fenced" in n or "may still" in n for n in notes(app)), notes(app)
    assert all(fleet.vms[name].host == host for name in running)  # never two copies
    await command(pilot, f"fence {host}")
    assert isinstance(app.screen, ConfirmDialog)
    await pilot.press("y")
    await settle(pilot)
    assert fleet.hosts[host].state == "off"
    await command(pilot, f"restart-vms {host}")
    moved = [name for name in running if fleet.vms[name].host != host]
    assert moved and all(fleet.vms[name].state == "running" for name in moved)


async def test_balance_shows_its_moves_and_applies_them(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await command(pilot, "balance power 5")  # the seeded fleet has hosts to empty
        assert isinstance(app.screen, ConfirmDialog)
        before = len(app.ops.migrations(limit=1000))
        await pilot.press("y")
        for _ in range(30):
            await settle(pilot)
            if not app.ops.tasks(active=True):
                break
        assert len(app.ops.migrations(limit=1000)) > before
        assert any(h.state == "off" for h in fleet_of(app).hosts.values())


async def test_a_failed_pre_flight_check_is_shown_and_forced_only_on_purpose(
    make_app: MakeApp,
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await vms_filtered(pilot, "state:running")
        vm = screen._page[0]
        fleet = fleet_of(app)
        best = app.ops.migration_candidates(vm.name)[0].host.name
        fleet.unplug_network(best, fleet.vms[vm.name].network)
        await pilot.press("m")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, PreflightDialog) and dialog.report.failed
        report = str(dialog.query_one("#preflight-report").render())
        assert "FAIL" in report and f"network {fleet.vms[vm.name].network} not on" in report
        await pilot.press("enter")  # Cancel is focused: nothing moves
        await settle(pilot)
        assert not isinstance(app.screen, PreflightDialog)
        assert fleet.vms[vm.name].host == vm.host and not app.ops.migrations(vm=vm.name)
        await pilot.press("m")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        fleet.plug_network(best, fleet.vms[vm.name].network)
        await pilot.press("ctrl+r")  # check again: it passes now
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, PreflightDialog) and not dialog.report.failed
        dialog.query_one("#opt-postcopy", Checkbox).value = True
        dialog.query_one("#ok", Button).focus()
        await pilot.press("enter")
        await settle(pilot)
        assert not isinstance(app.screen, PreflightDialog), notes(app)
        for _ in range(20):
            if not app.ops.tasks(active=True):
                break
            await settle(pilot)
        (record,) = app.ops.migrations(vm=vm.name)
        assert record.outcome is MigrationOutcome.SUCCEEDED and record.target == best
        assert app.ops.audit(action="vm.migrate", limit=1)[0].params["postcopy"] is True
