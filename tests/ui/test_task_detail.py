"""The Tasks screen's detail of a running migration, as text."""

from __future__ import annotations

from dataclasses import asdict

from vdctui.model import MigrationProgress, Task, TaskState
from vdctui.ui.screens.records import task_detail


def test_a_migration_shows_the_targets_own_state() -> None:
    sample = MigrationProgress(
        data_total=100, data_processed=40, data_remaining=60, memory_iteration=1,
        phase="precopy", target_state="paused (migrating)\x1b[2J",
    )  # fmt: skip
    task = Task(1, "migrate", "db1", TaskState.RUNNING, 40.0, "root", 0.0,
                detail={"source": "labh1", "to": "labh2", **asdict(sample)})  # fmt: skip
    text = str(task_detail(task))
    assert "labh1 -> labh2  phase precopy" in text
    assert "target labh2: paused (migrating)\\x1b[2J" in text  # written out, never run


def test_no_target_line_before_the_target_has_a_copy() -> None:
    sample = MigrationProgress(data_total=100, phase="setup")
    task = Task(2, "migrate", "db1", TaskState.RUNNING, 0.0, "root", 0.0,
                detail={"source": "labh1", "to": "labh2", **asdict(sample)})  # fmt: skip
    assert "target labh2" not in str(task_detail(task))
