"""Storage chores in the TUI: snapshot space per datastore with the old snapshots flagged
(`:snapshots`), and VMs defined on two hosts (`:duplicates`, the VMs table's flag, a
removal that asks first)."""

from __future__ import annotations

import pytest
from textual.widgets import Static

from tests.ui.conftest import Opened, command, notes, settle
from vdctui.model import DuplicateDefinition, VmState
from vdctui.ops import snapshots as snaps
from vdctui.ui.screens.storage import DuplicatesScreen, SnapshotSpaceScreen
from vdctui.ui.screens.vms import VmsScreen


async def test_snapshot_space_per_datastore_flags_old_ones(
    opened: Opened,
) -> None:
    app, pilot, fleet = opened
    vm = sorted(n for n, v in fleet.vms.items() if v.state == "running")[0]
    await snaps.create_snapshot(app.ops, vm, "fresh")
    old = fleet.snapshots_of(vm)[0]
    old.created_at -= 10 * 86_400  # taken ten days ago
    await snaps.create_snapshot(app.ops, vm, "today")
    await command(pilot, "snapshots")
    screen = app.screen
    assert isinstance(screen, SnapshotSpaceScreen)
    await settle(pilot)
    [row] = screen.items
    assert row.datastore == fleet.vms[vm].datastore and row.snapshots == 2 and row.old == 1
    cells = [str(c) for c in screen.table.get_row_at(0)]
    assert cells[4] == "1 OLD" and "%" in cells[3]
    assert f"OLD {vm}/fresh" in screen.old_text and "today" not in screen.old_text
    shown = str(screen.query_one("#old-snapshots", Static).render())
    assert f"\n  OLD {vm}/fresh" in shown and "\\n" not in shown  # lines, not "\n"


async def test_duplicates_flagged_listed_per_copy_and_removed_after_asking(
    opened: Opened, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The emulator keeps one VM per name: its driver is told of a second, shut-off copy
    here (the real-host path is the lab's tests/lab/test_duplicates.py)."""
    app, pilot, fleet = opened
    vm = sorted(n for n, v in fleet.vms.items() if v.state == "running")[0]
    here = fleet.vms[vm].host
    stale = next(h for h in sorted(fleet.hosts) if h != here)
    copies = [DuplicateDefinition(vm, ((here, VmState.RUNNING), (stale, VmState.SHUTOFF)))]
    removed: list[tuple[str, str]] = []
    driver = app.ops.driver

    async def listed() -> list[DuplicateDefinition]:
        return list(copies)

    async def undefine(name: str, host: str) -> None:
        removed.append((name, host))
        copies.clear()

    monkeypatch.setattr(driver, "duplicate_definitions", listed)
    monkeypatch.setattr(driver, "known_duplicates", lambda: list(copies))
    monkeypatch.setattr(driver, "undefine_copy", undefine)
    await app.ops.sync()
    await pilot.press("2")
    await settle(pilot)
    vms = app.screen
    assert isinstance(vms, VmsScreen)
    vms.apply_filter(vm)
    await settle(pilot)
    assert "DUPLICATE (2 hosts)" in vms.table._rows[0][2]

    await command(pilot, "duplicates")
    screen = app.screen
    assert isinstance(screen, DuplicatesScreen)
    await settle(pilot)
    assert [(r.host, r.state) for r in screen.items] == [
        (here, VmState.RUNNING),
        (stale, VmState.SHUTOFF),
    ]
    await pilot.press("R")  # the running copy: refused by the console, nothing asked
    await settle(pilot)
    assert "only a shut-off copy is removed" in notes(app)[-1] and not removed
    assert app.ops.audit(limit=1)[0].result == "refused"
    await pilot.press("down", "R")
    await settle(pilot)
    await pilot.press("n")
    await settle(pilot)
    assert not removed
    await pilot.press("R")
    await settle(pilot)
    await pilot.press("y")
    await settle(pilot)
    assert removed == [(vm, stale)]
    assert app.ops.audit(limit=1)[0].action == "vm.remove-copy"
    assert screen.items == [] and "No VM is defined on two hosts" in screen.status()
