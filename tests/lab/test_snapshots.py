"""Snapshots of a real VM (internal, on a qcow2 disk): taken, listed, reverted and deleted
through the console, checked with plain virsh on the host."""

from __future__ import annotations

import json
from pathlib import Path

from tests.lab.conftest import Guests, run_cli
from tests.lab.lab import Lab


def snapshot_names(lab: Lab, host: int, vm: str) -> list[str]:
    return lab.virsh(host, "snapshot-list", vm, "--name").stdout.split()


def test_snapshot_create_list_revert_delete(
    lab: Lab, lab_inventory: Path, guests: Guests, tmp_path: Path
) -> None:
    vm = guests.define("snap-one", 1, qcow2=True)
    db = tmp_path / "c.db"
    made = run_cli(lab_inventory, db, "vm", "snapshot", "create", vm, "base", "--description", "ok")
    assert made.returncode == 0, made.stderr
    assert "taken (running, with memory)" in made.stdout
    done = run_cli(lab_inventory, db, "vm", "snapshot", "create", vm, "later")
    assert done.returncode == 0, done.stderr
    assert sorted(snapshot_names(lab, 1, vm)) == ["base", "later"]
    listed = run_cli(lab_inventory, db, "--json", "vm", "snapshot", "list", vm)
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    assert [(r["name"], r["parent"], r["current"], r["depth"]) for r in rows] == [
        ("base", None, False, 0),
        ("later", "base", True, 1),
    ]
    assert rows[0]["description"] == "ok" and rows[0]["memory"] is True
    assert rows[0]["size_bytes"] is None  # libvirt does not say: unknown, never 0
    refused = run_cli(lab_inventory, db, "vm", "migrate", vm, "--to", "labh2")
    assert refused.returncode == 1 and "it has 2 snapshots" in refused.stderr  # pre-flight
    forced = run_cli(lab_inventory, db, "vm", "migrate", vm, "--to", "labh2", "--force")
    assert forced.returncode == 1 and "cannot migrate domain with 2 snapshots" in forced.stderr
    assert len(forced.stderr.strip().splitlines()) == 1  # libvirt's refusal, in one sentence
    lab.virsh(1, "destroy", vm)
    back = run_cli(lab_inventory, db, "vm", "snapshot", "revert", vm, "base", "--yes")
    assert back.returncode == 0, back.stderr
    assert lab.virsh(1, "domstate", vm).stdout.strip() == "running"  # its memory came back
    assert lab.virsh(1, "snapshot-current", vm, "--name").stdout.strip() == "base"
    gone = run_cli(lab_inventory, db, "vm", "snapshot", "delete", vm, "base", "--yes")
    assert gone.returncode == 0, gone.stderr
    assert snapshot_names(lab, 1, vm) == ["later"]
    info = lab.virsh(1, "snapshot-info", vm, "later").stdout
    assert "Parent:         -" in info  # re-parented by libvirt
    audit = run_cli(lab_inventory, db, "--json", "audit", "list")
    actions = [r["action"] for r in json.loads(audit.stdout)]
    for action in ("vm.snapshot.create", "vm.snapshot.revert", "vm.snapshot.delete"):
        assert action in actions


def test_a_raw_disk_cannot_hold_an_internal_snapshot(
    lab: Lab, lab_inventory: Path, guests: Guests, tmp_path: Path
) -> None:
    vm = guests.define("snap-raw", 2, disk=True)
    refused = run_cli(lab_inventory, tmp_path / "c.db", "vm", "snapshot", "create", vm, "s1")
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    assert snapshot_names(lab, 2, vm) == []
