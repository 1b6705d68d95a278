"""Many processes on one new store at once: one creates the schema, the others wait
for it; every write waits its turn; nobody sees "database is locked"."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from tests.waiting import ENOUGH
from vdctui.model import TaskState
from vdctui.store import Store

ROOT = Path(__file__).resolve().parents[2]
PROCESSES = 24

# Each process waits for the go file, so that all open the new store together.
WORKER = """
import sys, time
from pathlib import Path
from vdctui.store import Store
db, go, k = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
Path(f"{go}.ready{k}").touch()
deadline = time.monotonic() + 120
while not go.exists() and time.monotonic() < deadline:
    time.sleep(0.002)
with Store(db) as store:
    for i in range(5):
        task = store.create_task("check", f"p{k}", "tester", {"i": i})
        store.update_task(task.id, state="succeeded", progress=100.0)
        store.tasks(limit=5)
print("ok")
"""


def start_together(commands: list[list[str]], go: Path) -> list[subprocess.CompletedProcess[str]]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [
        subprocess.Popen(c, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        for c in commands
    ]
    try:
        deadline = time.monotonic() + ENOUGH
        while time.monotonic() < deadline:
            if len(list(go.parent.glob(f"{go.name}.ready*"))) == len(commands):
                break
            if any(p.poll() is not None for p in procs):
                break
            time.sleep(0.01)
        go.touch()
        results = []
        for p, c in zip(procs, commands, strict=True):
            out, err = p.communicate(timeout=ENOUGH)
            results.append(subprocess.CompletedProcess(c, p.returncode, out, err))
        return results
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()


def test_24_processes_open_a_new_store_and_write_at_once(tmp_path: Path) -> None:
    db = tmp_path / "new.db"
    go = tmp_path / "go"
    commands = [[sys.executable, "-c", WORKER, str(db), str(go), str(k)] for k in range(PROCESSES)]
    results = start_together(commands, go)
    for r in results:
        assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr
        assert "locked" not in r.stderr and "Traceback" not in r.stderr
    with Store(db) as store:
        tasks = store.tasks(limit=1000)
        assert len(tasks) == PROCESSES * 5
        assert {t.state for t in tasks} == {TaskState.SUCCEEDED}
        assert store.schema_version == store.latest_schema_version
