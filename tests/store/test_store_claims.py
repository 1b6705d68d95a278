"""Two processes claiming the same VMs at once (issue 10): the claim is checked in the
transaction that records the task, so each VM gets exactly one task, never two."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from vdctui.store import Store

ROOT = Path(__file__).resolve().parents[2]
NAMES = 60

CLAIMER = """
import sys
from vdctui.store import Store
from vdctui.store.history import TaskConflict
store = Store(sys.argv[1])
sys.stdin.readline()  # start together
won = refused = 0
for i in range(int(sys.argv[2])):
    try:
        store.create_task("migrate", f"vm-{i:03d}", sys.argv[3], {}, claims=[f"vm-{i:03d}"])
        won += 1
    except TaskConflict as exc:
        assert "is being migrated by" in str(exc), exc
        refused += 1
print(won, refused, flush=True)
sys.stdin.readline()  # stay alive (the tasks stay live) until told
"""


def test_two_processes_never_both_claim_a_vm(tmp_path: Path) -> None:
    db = tmp_path / "claims.db"
    Store(db).close()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CLAIMER, str(db), str(NAMES), who],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        for who in ("alice", "bob")
    ]
    try:
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        counts = []
        for proc in procs:
            assert proc.stdout is not None
            counts.append([int(n) for n in proc.stdout.readline().split()])
        assert sum(won for won, _ in counts) == NAMES, counts
        assert sum(refused for _, refused in counts) == NAMES, counts
        with Store(db) as store:
            tasks = store.tasks(limit=1000)
        assert sorted(t.target for t in tasks) == [f"vm-{i:03d}" for i in range(NAMES)]
    finally:
        for proc in procs:
            proc.communicate("done\n", timeout=60)
