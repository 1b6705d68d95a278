"""A VM defined on two hosts with plain virsh: flagged with both copies, and only the
shut-off stale copy removed, on the host named."""

from __future__ import annotations

import json
from pathlib import Path

from tests.lab.conftest import Guests, run_cli
from tests.lab.lab import Lab
from vdctui.model import VmState
from vdctui.ops import Console
from vdctui.ops.duplicates import remove_copy


def test_a_duplicate_definition_is_flagged_and_its_stale_copy_removed(
    lab: Lab, lab_inventory: Path, guests: Guests, tmp_path: Path
) -> None:
    vm = guests.define("dup-one", 1)
    guests.define("dup-one", 2, start=False)  # what another tool's migration can leave
    db = tmp_path / "c.db"
    listed = run_cli(lab_inventory, db, "--json", "vm", "duplicates")
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == [
        {"vm": vm, "copies": {"labh1": "running", "labh2": "shut off"}}
    ]
    shown = run_cli(lab_inventory, db, "vm", "duplicates")
    assert "labh1 (running), labh2 (shut off)" in shown.stdout and "DUPLICATE" in shown.stdout
    refused = run_cli(lab_inventory, db, "vm", "remove-copy", vm, "--host", "labh1", "--yes")
    assert refused.returncode == 1 and "only a shut-off copy" in refused.stderr
    done = run_cli(lab_inventory, db, "vm", "remove-copy", vm, "--host", "labh2", "--yes")
    assert done.returncode == 0, done.stderr
    assert guests.where(vm) == [(1, "running")]
    again = run_cli(lab_inventory, db, "--json", "vm", "duplicates")
    assert json.loads(again.stdout) == []
    audit = json.loads(run_cli(lab_inventory, db, "--json", "audit", "list").stdout)
    assert [r["result"] for r in audit if r["action"] == "vm.remove-copy"] == ["ok", "refused"]


async def test_a_sync_flags_the_duplicate_for_the_vms_table(
    lab: Lab, lab_console: Console, guests: Guests
) -> None:
    """What the TUI's VMs table and :duplicates show: the sync's own host reads."""
    vm = guests.define("dup-sync", 1)
    guests.define("dup-sync", 2, start=False)
    await lab_console.sync()
    flagged = lab_console.duplicates_seen()[vm]
    assert dict(flagged.copies) == {"labh1": VmState.RUNNING, "labh2": VmState.SHUTOFF}
    await remove_copy(lab_console, vm, "labh2")
    await lab_console.sync()
    assert vm not in lab_console.duplicates_seen()
