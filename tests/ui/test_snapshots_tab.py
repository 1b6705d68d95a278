"""The Snapshots tab of a VM's detail: take one, see the tree, revert (asks), delete (asks)."""

from __future__ import annotations

from textual.widgets import DataTable, Static

from tests.ui.conftest import SIZE, MakeApp, fleet_of, notes, settle
from vdctui.model import Role
from vdctui.ui.app import VdcApp
from vdctui.ui.dialogs import ConfirmDialog
from vdctui.ui.dialogs.snapshot import SnapshotDialog
from vdctui.ui.screens.vm_detail import VmDetailScreen


async def open_snapshots(pilot, app: VdcApp, vm: str) -> VmDetailScreen:  # type: ignore[no-untyped-def]
    await pilot.press("2", "slash", *vm, "enter")
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)
    detail = app.screen
    assert isinstance(detail, VmDetailScreen) and detail.vm_name == vm
    await pilot.press("S")
    await settle(pilot)
    return detail


def rows(detail: VmDetailScreen) -> list[str]:
    table = detail.query_one("#vm-snapshots", DataTable)
    return [str(table.get_row_at(i)[0]) for i in range(table.row_count)]


async def test_take_revert_and_delete_from_the_tab(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        vm = app.ops.vms(state="running", limit=1)[0].name
        fleet = fleet_of(app)
        detail = await open_snapshots(pilot, app, vm)
        assert "None yet" in str(detail.query_one("#snapshot-note", Static).render())
        for name in ("base", "next"):
            await pilot.press("n")
            await settle(pilot)
            assert isinstance(app.screen, SnapshotDialog)
            await pilot.press(*name, "enter")
            await settle(pilot)
        assert isinstance(app.screen, VmDetailScreen)
        assert rows(detail) == ["base", "  next *"]
        assert [s.snap for s in fleet.snapshots_of(vm)] == ["base", "next"]
        fleet.destroy_vm(vm)
        await pilot.press("up", "v")  # the cursor on base
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("y")
        await settle(pilot)
        assert fleet.vms[vm].state == "running"
        assert rows(detail) == ["base *", "  next"]
        await pilot.press("delete")
        await settle(pilot)
        await pilot.press("n")  # no: nothing changes
        await settle(pilot)
        assert len(fleet.snapshots_of(vm)) == 2
        await pilot.press("delete", "y")
        await settle(pilot)
        assert rows(detail) == ["next"]
        assert any("snapshot base deleted" in n for n in notes(app))


async def test_a_bad_name_is_said_in_the_dialog_and_a_viewer_has_no_keys(
    make_app: MakeApp,
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        vm = app.ops.vms(state="running", limit=1)[0].name
        await open_snapshots(pilot, app, vm)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press(*"no way", "enter")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, SnapshotDialog)
        assert "not a valid snapshot name" in str(dialog.query_one("#why", Static).render())
        await pilot.press("escape")
        await settle(pilot)
        assert fleet_of(app).snapshots_of(vm) == []
    viewer = make_app(role=Role.VIEWER)
    async with viewer.run_test(size=SIZE) as pilot:
        await settle(pilot)
        vm = viewer.ops.vms(state="running", limit=1)[0].name
        await open_snapshots(pilot, viewer, vm)
        await pilot.press("n")
        await settle(pilot)
        assert not isinstance(viewer.screen, SnapshotDialog)
