"""Tasks belong to their process (issue 10), tested with real processes over SSH.

A slow `vm migrate` runs in one process while others open the same db: its task is
never marked interrupted, and a second migration of the same VM is refused with who
and what (exit 1). Killed with -9, the next process to sync ends it, once.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.waiting import ENOUGH, said


def vdctui(*args: str) -> list[str]:
    return [sys.executable, "-m", "vdctui", *args]


@pytest.fixture(scope="module")
def inventory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """`emulate --serve-ssh` running 3 hosts slowly (migrations take many seconds)."""
    tmp = tmp_path_factory.mktemp("owners")
    inv = tmp / "inv.toml"
    args = ["--db", str(tmp / "emu.db"), "emulate", "--hosts", "3", "--vms", "9"]
    args += ["--speed", "0.02", "--serve-ssh", "127.0.0.1:0", "--write-inventory", str(inv)]
    proc = subprocess.Popen(vdctui(*args), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + ENOUGH
        while not inv.exists():
            if proc.poll() is not None:  # it ended: what it said
                raise AssertionError(proc.stderr.read().decode() if proc.stderr else "")
            assert time.monotonic() < deadline, f"emulate wrote no {inv} within {ENOUGH:g} s"
            time.sleep(0.1)
        yield inv
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def run(db: Path, inv: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = vdctui("--db", str(db), "--inventory", str(inv), *args)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def json_of(db: Path, inv: Path, *args: str) -> list[dict[str, object]]:
    done = run(db, inv, "--json", *args)
    assert done.returncode in (0, 3), done.stderr
    return list(json.loads(done.stdout))


def start_migration(db: Path, inv: Path, vm: str, to: str) -> subprocess.Popen[str]:
    cmd = vdctui("--db", str(db), "--inventory", str(inv), "vm", "migrate", vm, "--to", to)
    proc = subprocess.Popen(
        cmd + ["--copy-storage"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert proc.stderr is not None
    said(proc.stderr, "Ctrl-C cancels", f"the migration of {vm} started")
    return proc


def test_a_live_process_keeps_its_task_and_a_dead_ones_ends_once(
    inventory: Path, tmp_path: Path
) -> None:
    db = tmp_path / "shared.db"
    vms = json_of(db, inventory, "vm", "list", "--state", "running")
    vm = next(v for v in vms if v["name"] == "web-001")
    hosts = sorted(h["name"] for h in json_of(db, inventory, "host", "list"))
    to, elsewhere = [h for h in hosts if h != vm["host"]][:2]
    first = start_migration(db, inventory, "web-001", to)
    try:
        # Another process opens the same db and syncs: the running task is not its orphan.
        json_of(db, inventory, "vm", "list")
        (task,) = json_of(db, inventory, "task", "list")
        assert task["state"] == "running", task
        # A second migration of the same VM is refused, saying who and what; exit 1.
        second = run(db, inventory, "vm", "migrate", "web-001", "--to", elsewhere)
        assert second.returncode == 1, (second.stdout, second.stderr)
        said = second.stdout + second.stderr
        assert f"web-001 is being migrated by {task['actor']} (task {task['id']}, " in said, said
        assert "Traceback" not in said
        (task,) = json_of(db, inventory, "task", "list")
        assert task["state"] == "running", task  # still its owner's, not interrupted
    finally:
        os.kill(first.pid, signal.SIGKILL)
        first.communicate()
    # The next opener ends it truthfully (interrupted, or moved if the fleet finished it),
    # and a third opener finds nothing more to end: one end record.
    json_of(db, inventory, "vm", "list")
    json_of(db, inventory, "vm", "list")
    (task,) = json_of(db, inventory, "task", "list")
    assert task["state"] in ("failed", "succeeded"), task
    if task["state"] == "failed":
        assert "interrupted" in str(task["error"]), task
    ends = [r for r in json_of(db, inventory, "audit", "list") if r["action"] == "vm.migrate.end"]
    assert len(ends) == 1, ends
