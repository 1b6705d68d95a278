"""Every command beside a process that holds the embedded fleet (issue 10): the ones that
read a host (a VM's XML and configuration, snapshots, services, duplicates) answer at once,
read through the holder; the changes that need the fleet (autostart, snapshots, security
groups, hosts added and removed, CPU policy) are handed to it and audited as the asker.

Real processes: `vdctui emulate` holds the fleet; each command is a `vdctui` process on
the same --db. VDCTUI_FLEET_WAIT_S is short, so a command that waited for the fleet's lock
instead of asking the holder would fail ("in use by", "needs the embedded data center
itself"): these assert what each command answers, never how long it took."""

from __future__ import annotations

import getpass
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.cli.conftest import Vdctui
from tests.cli.test_shared_reads import as_nobody, holder  # noqa: F401 - the fixture
from tests.waiting import ENOUGH

ROOT = Path(__file__).resolve().parents[2]
WAIT_S = "5"  # the bound on the holder taking a request; a command waiting the fleet fails


def beside(db: Path, *args: str) -> tuple[int, str, str]:
    """`vdctui --db DB ARGS` in its own process, beside the holder."""
    proc = subprocess.run(
        [sys.executable, "-m", "vdctui", "--db", str(db), *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT), "VDCTUI_FLEET_WAIT_S": WAIT_S},
        timeout=ENOUGH,
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    for refusal in ("in use by", "needs the embedded data center itself", "still connecting"):
        assert refusal not in proc.stderr, (args, proc.stderr)
    return proc.returncode, proc.stdout, proc.stderr


def ok(db: Path, *args: str) -> str:
    code, out, err = beside(db, *args)
    assert code == 0, (args, err)
    return out


def audited(db: Path, action: str, target: str) -> list[dict]:  # type: ignore[type-arg]
    records = json.loads(ok(db, "--json", "audit", "list", "--limit", "200"))
    return [r for r in records if r["action"] == action and r["target"] == target]


def test_commands_that_read_a_host_answer_beside_a_holder(
    vdctui: Vdctui,
    holder: subprocess.Popen[str],  # noqa: F811
) -> None:
    db = vdctui.db
    vm = json.loads(ok(db, "--json", "vm", "list"))[0]["name"]
    xml = ok(db, "vm", "xml", vm)
    assert f"<name>{vm}</name>" in xml  # the host's own XML, read by the holder
    config = json.loads(ok(db, "--json", "vm", "config", vm))
    assert {"cpu", "memory", "autostart"} <= {line["part"] for line in config}
    assert f"{vm} has no snapshots." in ok(db, "vm", "snapshot", "list", vm)
    assert "No VM has snapshots." in ok(db, "vm", "snapshot", "list")
    assert "No VM has snapshots." in ok(db, "vm", "snapshot", "space")
    assert "No services." in ok(db, "service", "list")
    assert "No VM is defined on two hosts." in ok(db, "vm", "duplicates")
    assert json.loads(ok(db, "--json", "pool", "list"))
    ok(db, "secgroup", "list")  # with the flows the holder counted
    ok(db, "--read-only", "vm", "xml", vm)  # a viewer reads through the holder too
    assert holder.poll() is None


def test_door_changes_are_handed_to_the_holder_and_audited_as_the_asker(
    vdctui: Vdctui,
    holder: subprocess.Popen[str],  # noqa: F811
) -> None:
    db = vdctui.db
    me = getpass.getuser()
    vms = json.loads(ok(db, "--json", "vm", "list"))
    vm = next(v["name"] for v in vms if v["state"] == "running")
    assert f"{vm}: autostart on" in ok(db, "vm", "autostart", vm, "on")
    autostart = {c["part"]: c["text"] for c in json.loads(ok(db, "--json", "vm", "config", vm))}
    assert autostart["autostart"] == "on"  # the holder's fleet changed, read back through it
    (record,) = audited(db, "vm.autostart", vm)
    assert record["actor"] == me and record["result"] == "ok"

    assert "snapshot before-patch taken" in ok(db, "vm", "snapshot", "create", vm, "before-patch")
    assert "before-patch" in ok(db, "vm", "snapshot", "list", vm)
    assert "reverted to before-patch" in ok(
        db, "vm", "snapshot", "revert", vm, "before-patch", "--yes"
    )
    assert "deleted" in ok(db, "vm", "snapshot", "delete", vm, "before-patch", "--yes")
    assert f"{vm} has no snapshots." in ok(db, "vm", "snapshot", "list", vm)
    for action in ("vm.snapshot.create", "vm.snapshot.revert", "vm.snapshot.delete"):
        (record,) = audited(db, action, vm)
        assert record["actor"] == me and record["result"] == "ok", record

    ok(db, "secgroup", "create", "web-in")
    ok(db, "secgroup", "rule", "add", "web-in", "--ports", "443")
    ok(db, "secgroup", "attach", "web-in", vm)
    groups = json.loads(ok(db, "--json", "secgroup", "list"))
    assert any(g["group"]["name"] == "web-in" and vm in g["group"]["members"] for g in groups)
    ok(db, "secgroup", "detach", "web-in", vm)
    ok(db, "secgroup", "delete", "web-in", "--yes")
    assert [r["result"] for r in audited(db, "secgroup.attach", vm)] == ["ok"]

    hosts = json.loads(ok(db, "--json", "host", "list"))
    rack = hosts[0]["rack"]
    added = json.loads(ok(db, "--json", "host", "add", "--rack", rack))[0]["added"]
    assert len(added) == 1
    assert added[0] in {h["name"] for h in json.loads(ok(db, "--json", "host", "list"))}
    ok(db, "host", "remove", added[0])
    assert added[0] not in {h["name"] for h in json.loads(ok(db, "--json", "host", "list"))}
    (record,) = audited(db, "host.add", rack)
    assert record["actor"] == me and record["result"] == "ok"
    assert holder.poll() is None


def test_cores_alerts_and_copies_are_handed_to_the_holder(
    vdctui: Vdctui,
    holder: subprocess.Popen[str],  # noqa: F811
) -> None:
    db = vdctui.db
    me = getpass.getuser()
    vms = json.loads(ok(db, "--json", "vm", "list"))
    vm, host = next((v["name"], v["host"]) for v in vms if v["state"] == "running")
    assert f"{vm} is dedicated on {host}" in ok(db, "vm", "cpu-policy", vm, "dedicated")
    assert f"Every VM on {host} is pinned as held." in ok(db, "host", "pins", host, "--repair")
    code, _, err = beside(db, "host", "reserve-cpus", host, "0-3", "--yes")
    assert code == 1 and f"is held by dedicated VM {vm}" in err  # the holder's own pins judge
    assert f"{vm} is shared" in ok(db, "vm", "cpu-policy", vm, "shared")
    ok(db, "host", "reserve-cpus", host, "0-3", "--yes")
    assert f"port-scan injected on {vm}" in ok(db, "alert", "inject", "port-scan", vm)
    ok(db, "alert", "list")
    code, _, err = beside(db, "vm", "remove-copy", vm, "--host", host, "--yes")
    assert code == 1 and f"{vm} is not defined on two hosts; nothing to remove." in err
    for action, target in (
        ("vm.cpu-policy", vm),
        ("host.pins-repair", host),
        ("fault.attack", vm),
    ):
        assert {(r["actor"], r["result"]) for r in audited(db, action, target)} == {(me, "ok")}
    results = [r["result"] for r in audited(db, "host.reserve-cpus", host)]
    assert sorted(results) == ["ok", "refused"]
    assert holder.poll() is None


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to open a root-owned store as nobody")
def test_a_user_who_cannot_write_the_store_is_told_why_a_host_is_not_read(vdctui: Vdctui) -> None:
    shared = Path(tempfile.mkdtemp(prefix="vdctui-ro-", dir="/tmp"))
    try:
        shared.chmod(0o755)  # others may read, not write
        for file in vdctui.db.parent.iterdir():
            if file.is_file():
                shutil.copy(file, shared / file.name)
                (shared / file.name).chmod(0o644)
        db = shared / vdctui.db.name
        vm = Vdctui(db).json("vm", "list")[0]["name"]
        Vdctui(db)("vm", "xml", vm)  # warm the imports: the child cannot read root's Python
        ((code, out, err),) = as_nobody(db, ["vm", "xml", vm])
        assert code == 1 and out == "", err
        assert f"needs a process that can write the store {db} to ask them" in err
        assert "still connecting" not in err and "Traceback" not in err
    finally:
        shutil.rmtree(shared)
