"""Everyone sees everyone (issue 10): what another process does to the same db appears
in an open console within one sync, with its actor; its tasks stay its own while it
lives, and end as interrupted, once, when it dies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import DataTable

from tests.ui.conftest import SIZE, command, settle
from vdctui.ui.app import VdcApp

ROOT = Path(__file__).resolve().parents[2]

# Another process working on the same store: a running migration task at 43 %, its
# migration record, then it waits (alive) until killed.
WORKER = """
import sys, time
from vdctui.model import MigrationKind, TaskState
from vdctui.store import Store
store = Store(sys.argv[1])
task = store.create_task("migrate", "web-x", "carol", {"to": "rk9-h9"}, claims=["web-x"])
store.update_task(task.id, state=TaskState.RUNNING, progress=43.0)
store.start_migration("web-x", "rk9-h1", "rk9-h9", MigrationKind.LIVE, "carol", task_id=task.id)
print(task.id, flush=True)
time.sleep(600)
"""


def rows(app: VdcApp) -> list[list[str]]:
    table = app.screen.query_one(DataTable)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def one_sync(app: VdcApp, pilot: Pilot[None]) -> None:
    """One sync of the console (as its 2 s timer does), then the screen repainted."""
    app._next_sync = 0.0
    app.sync_fleet()
    await settle(pilot)


def python(*args: str) -> list[str]:
    return [sys.executable, *args]


async def test_a_console_sees_another_process_within_a_sync(
    make_app: Callable[..., VdcApp], tmp_path: Path
) -> None:
    db = tmp_path / "vdctui.db"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        worker = subprocess.Popen(
            python("-c", WORKER, str(db)), stdout=subprocess.PIPE, text=True, env=env
        )
        try:
            assert worker.stdout is not None
            task_id = worker.stdout.readline().strip()
            assert task_id, worker.communicate()
            changed = subprocess.run(
                python(
                    "-m", "vdctui", "--db", str(db), "operator", "set", "nobody", "--role", "viewer"
                ),
                capture_output=True,
                text=True,
                env=env,
                timeout=120,
            )
            assert changed.returncode == 0, changed.stderr
            await command(pilot, "tasks")
            await one_sync(app, pilot)
            (row,) = [r for r in rows(app) if r[0] == task_id]
            assert row[1:6] == ["migrate", "web-x", "running", "43%", "carol"], row
            await command(pilot, "audit")
            await one_sync(app, pilot)
            actions = {(r[4], r[5]): r[2] for r in rows(app)}
            assert ("operator.set", "nobody") in actions, actions
            assert actions[("operator.set", "nobody")] not in ("", "—")  # the actor is shown
        finally:
            os.kill(worker.pid, signal.SIGKILL)
            worker.communicate()
        # Its process is gone: the next sync ends its task as interrupted, once.
        await command(pilot, "tasks")
        await one_sync(app, pilot)
        (row,) = [r for r in rows(app) if r[0] == task_id]
        assert row[3] == "failed" and "interrupted" in row[7], row
        ends = [
            r
            for r in app.ops.audit(limit=50)
            if r.action == "vm.migrate.end" and r.target == "web-x"
        ]
        assert len(ends) == 1, ends
