"""The VM detail view, and the inventory's host pane and tree, as an operator uses them."""

from __future__ import annotations

from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from tests.ui.conftest import Opened, command, fleet_of, settle
from vdctui.drivers.emulated import EmulatedDriver
from vdctui.ui.app import VdcApp
from vdctui.ui.dialogs import MigrateDialog
from vdctui.ui.screens.inventory import InventoryScreen
from vdctui.ui.screens.vm_detail import VmDetailScreen


def text_of(screen: object, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())  # type: ignore[attr-defined]


async def migrate_and_wait(pilot: Pilot[None], vm: str) -> str:
    app: VdcApp = pilot.app  # type: ignore[assignment]
    target = next(c.host.name for c in app.ops.migration_candidates(vm) if c.reason is None)
    await command(pilot, f"migrate {vm} {target}")
    for _ in range(30):
        if not app.ops.tasks(active=True):
            break
        await settle(pilot)
    return target


async def open_host(pilot: Pilot[None], host: str) -> InventoryScreen:
    await pilot.press("1")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, InventoryScreen)
    screen.select_host(host)
    await settle(pilot)
    assert screen.selected == ("host", host)
    return screen


async def test_enter_on_a_vm_opens_its_detail(opened: Opened) -> None:
    app, pilot, _ = opened
    vm = app.ops.vms(state="running", limit=1)[0]
    target = await migrate_and_wait(pilot, vm.name)
    await pilot.press("2", "slash", *vm.name, "enter")
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)
    detail = app.screen
    assert isinstance(detail, VmDetailScreen)
    facts = text_of(detail, "#vm-facts")
    host = app.ops.host(target)
    moved = app.ops.vm(vm.name)
    assert f"{target} (up) · rack {host.rack}" in facts
    assert f"Pool       {moved.pool}" in facts
    assert f"Datastore  {moved.datastore}" in facts
    assert f"vCPUs      {moved.vcpus} of at most {moved.max_vcpus}" in facts
    assert "of at most" in facts.split("Memory")[1]
    assert f"NICs       {moved.network}" in facts
    recent = text_of(detail, "#vm-events")
    assert "vm.migrate by" in recent
    history = detail.query_one("#vm-migrations", DataTable)
    assert history.row_count == 1
    assert [str(c) for c in history.get_row_at(0)][1:3] == [vm.host, target]
    await pilot.press("escape")
    await settle(pilot)
    assert app.current_mode == "vms" and not isinstance(app.screen, VmDetailScreen)


async def test_from_the_detail_to_the_host_in_the_inventory(opened: Opened) -> None:
    app, pilot, _ = opened
    vm = app.ops.vms(limit=1)[0]
    await pilot.press("2", "enter")
    await settle(pilot)
    assert isinstance(app.screen, VmDetailScreen)
    await pilot.press("h")
    await settle(pilot)
    screen = app.screen
    assert isinstance(screen, InventoryScreen)
    assert screen.selected == ("host", vm.host)
    assert screen.fleet_tree.cursor_node is not None
    assert screen.fleet_tree.cursor_node.data == ("host", vm.host)


async def test_enter_and_m_from_a_hosts_vm_list(opened: Opened) -> None:
    app, pilot, _ = opened
    vm = app.ops.vms(state="running", limit=1)[0]
    assert vm.host is not None
    screen = await open_host(pilot, vm.host)
    table = screen.side_table
    table.focus()
    row = [str(table.get_row_at(i)[0]) for i in range(table.row_count)].index(vm.name)
    table.move_cursor(row=row)
    await settle(pilot)
    await pilot.press("m")
    await settle(pilot)
    dialog = app.screen
    assert isinstance(dialog, MigrateDialog) and dialog.vm == vm.name
    await pilot.press("escape")
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)
    assert isinstance(app.screen, VmDetailScreen) and app.screen.vm_name == vm.name


async def test_the_tree_keeps_what_was_open_through_a_filter(opened: Opened) -> None:
    app, pilot, _ = opened
    host = app.ops.hosts()[3]
    screen = await open_host(pilot, host.name)
    opened = {n.data for n in screen._all_nodes() if n.is_expanded}
    assert ("rack", host.rack) in opened
    await pilot.press("slash", *host.name, "enter")
    await settle(pilot)
    await pilot.press("escape")
    await settle(pilot)
    now_open = {n.data for n in screen._all_nodes() if n.is_expanded}
    assert opened <= now_open
    assert screen.fleet_tree.cursor_node is not None
    assert screen.fleet_tree.cursor_node.data == ("host", host.name)


async def test_maintenance_shows_in_the_rack_and_the_tree_stays_open(opened: Opened) -> None:
    app, pilot, _ = opened
    host = next(h for h in app.ops.hosts() if not app.ops.plan_maintenance(h.name).stuck)
    screen = await open_host(pilot, host.name)
    await command(pilot, f"maintenance {host.name}")
    await settle(pilot)
    if not isinstance(app.screen, InventoryScreen):  # a confirmation
        await pilot.press("y")
        await settle(pilot)
    for _ in range(30):
        if host.name in app.ops.hosts_in_maintenance() and not app.ops.tasks(active=True):
            break
        await settle(pilot)
    assert host.name in app.ops.hosts_in_maintenance()
    screen._put_cursor(("rack", host.rack))
    await settle(pilot)
    table = screen.side_table
    states = {
        str(table.get_row_at(i)[0]): str(table.get_row_at(i)[1]) for i in range(table.row_count)
    }
    assert states[host.name] == "maintenance"
    screen.select_host(host.name)
    await command(pilot, f"maintenance {host.name} exit")
    await settle(pilot)
    assert screen.fleet_tree.cursor_node is not None
    assert screen.fleet_tree.cursor_node.data == ("host", host.name)


async def test_a_filtered_rack_shows_the_whole_racks_power(opened: Opened) -> None:
    app, pilot, _ = opened
    host = app.ops.hosts()[0]
    screen = await open_host(pilot, host.name)
    rack_node = next(n for n in screen._all_nodes() if n.data == ("rack", host.rack))
    before = str(rack_node.label)
    await pilot.press("slash", *host.name, "enter")
    await settle(pilot)
    rack_node = next(n for n in screen._all_nodes() if n.data == ("rack", host.rack))
    assert str(rack_node.label) == before


async def test_the_sparkline_has_history_after_a_few_syncs(opened: Opened) -> None:
    app, pilot, _ = opened
    host = app.ops.hosts()[0]
    driver = app.ops.driver
    assert isinstance(driver, EmulatedDriver)
    for _ in range(4):
        await driver.advance(2.0)
        await app.ops.sync()
    screen = await open_host(pilot, host.name)
    samples = len(app.ops.host_history(host.name))
    assert samples >= 5  # the first sync and the four here (the app may sync too)
    spark = text_of(screen, "#spark")
    assert f"last {samples} syncs" in spark
    assert sum(spark.count(c) for c in "▁▂▃▄▅▆▇█") == samples


async def test_enter_on_a_racks_host_selects_it_in_the_tree(opened: Opened) -> None:
    app, pilot, _ = opened
    host = app.ops.hosts()[1]
    screen = await open_host(pilot, host.name)
    screen._put_cursor(("rack", host.rack))
    await settle(pilot)
    table = screen.side_table
    table.focus()
    row = [str(table.get_row_at(i)[0]) for i in range(table.row_count)].index(host.name)
    table.move_cursor(row=row)
    screen.refresh_data()  # a sync repaints the pane: the cursor stays on its row
    assert table.cursor_row == row
    await pilot.press("enter")
    await settle(pilot)
    assert screen.selected == ("host", host.name)
    assert screen.fleet_tree.has_focus


async def test_a_host_that_is_off_draws_no_cpu_samples(opened: Opened) -> None:
    """Its CPU busy is `—` in the pane; its sparkline does not draw 0 % for the syncs it was
    off (a host that does not run has no CPU figure, not a busy of 0)."""
    app, pilot, _ = opened
    host = app.ops.hosts()[0].name
    before = len(app.ops.host_history(host))
    fleet_of(app).power_off_host(host)
    for _ in range(3):
        await app.ops.sync()
    assert len(app.ops.host_history(host)) == before
