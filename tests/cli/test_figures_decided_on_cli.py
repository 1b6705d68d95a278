"""`vdctui balance` beside the process that holds a big embedded fleet, between two whole
syncs: the plan is made on CPU figures older than the states, and says how old (stderr,
one line); `balance --json` carries `figures_at` (when they were read; null: unknown)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.cli.test_figures_age_cli import synced_then_changes_read
from tests.ops.test_sync_changes import incremental, small  # noqa: F401 - fixture
from vdctui.backend import fleet_path
from vdctui.fleet_lock import FleetLock


def vdctui(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`vdctui --db DB ARGS` in a process of its own."""
    line = [sys.executable, "-m", "vdctui", "--db", str(db), *args]
    done = subprocess.run(line, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return done


def balance_beside_a_holder(db: Path) -> tuple[list[dict[str, object]], str, str]:
    """`balance --json`'s plans, then `balance`'s stdout and stderr, while this process
    holds the fleet (as `vdctui emulate` would)."""
    holder = FleetLock(fleet_path(db), db, "vdctui emulate")
    holder.acquire()
    try:
        plans = json.loads(vdctui(db, "--json", "balance").stdout)
        table = vdctui(db, "balance")
    finally:
        holder.release()
    return plans, table.stdout, table.stderr


def test_a_plan_says_when_its_figures_were_read(
    tmp_path: Path,
    incremental: None,  # noqa: F811
) -> None:
    db, whole_at, _states_at = synced_then_changes_read(tmp_path)
    plans, out, err = balance_beside_a_holder(db)
    assert [plan["figures_at"] for plan in plans] == [whole_at]
    # (how long ago: from the fixed clock these figures were read by to this wall time)
    assert "vdctui: planned on figures as read " in err
    assert "as read" not in out  # stdout: the plan alone


def test_a_plan_on_figures_read_with_the_states_says_nothing_more(tmp_path: Path) -> None:
    import asyncio

    console, _fleet = small(tmp_path)
    asyncio.run(console.sync())
    whole_at = console.store_now()
    console.store.close()
    plans, _out, err = balance_beside_a_holder(tmp_path / "v.db")
    assert [plan["figures_at"] for plan in plans] == [whole_at]
    assert "as read" not in err
