"""Appends from many processes stay one linear chain (real processes, not threads)."""

from __future__ import annotations

import multiprocessing
import sqlite3
from pathlib import Path

import pytest

from vdctui.model import Role
from vdctui.store import Store, StoreError

PROCESSES = 8
APPENDS = 500


def _append_many(path: str, worker: int, count: int, start: multiprocessing.Event) -> None:
    """One process: `count` audited changes, each its own append (as the console does)."""
    store = Store(path)
    start.wait(60)
    try:
        for i in range(count):
            store.append_audit(
                actor=f"worker-{worker}",
                role=Role.OPERATOR,
                action="vm.start",
                target=f"vm-{worker}-{i}",
                params={"i": i},
            )
    finally:
        store.close()


def _changes_through_the_door(
    path: str, worker: int, count: int, start: multiprocessing.Event
) -> None:
    """One process: `count` changes through the ops door, each audited by it."""
    import asyncio

    from vdctui.drivers.pending import PendingDriver
    from vdctui.ops import Console, Identity
    from vdctui.ops.actions import Action

    async def nothing() -> None:
        return None

    async def run() -> None:
        store = Store(path)
        console = Console(store, PendingDriver(), Identity(f"op-{worker}", Role.OPERATOR))
        try:
            start.wait(60)
            for i in range(count):
                await console.change(Action.AFFINITY_UPDATE, f"group-{worker}", {"i": i}, nothing)
        finally:
            store.close()

    asyncio.run(run())


def test_eight_processes_of_audited_changes_through_the_door(db_path: Path) -> None:
    """Issue 10: 8 processes x 500 audited changes, then `audit verify` (count exact)."""
    Store(db_path).close()
    context = multiprocessing.get_context("spawn")
    start = context.Event()
    workers = [
        context.Process(target=_changes_through_the_door, args=(str(db_path), w, APPENDS, start))
        for w in range(PROCESSES)
    ]
    for worker in workers:
        worker.start()
    start.set()
    for worker in workers:
        worker.join(240)
    assert [worker.exitcode for worker in workers] == [0] * PROCESSES
    with Store(db_path) as store:
        assert store.count_audit(action="affinity.update", result="ok") == PROCESSES * APPENDS
        assert store.check_audit().problems == []


def test_eight_processes_append_one_linear_chain(db_path: Path) -> None:
    with Store(db_path) as store:  # the file exists and is sealed before the writers race
        # one-second epochs: many end (tag written, key replaced) while the writers race
        key = store.seal_audit(epoch_s=1)
    context = multiprocessing.get_context("spawn")
    start = context.Event()
    workers = [
        context.Process(target=_append_many, args=(str(db_path), w, APPENDS, start))
        for w in range(PROCESSES)
    ]
    for worker in workers:
        worker.start()
    start.set()
    for worker in workers:
        worker.join(240)
    codes = [worker.exitcode for worker in workers]
    assert codes == [0] * PROCESSES
    with Store(db_path) as store:
        assert store.count_audit() == PROCESSES * APPENDS
        assert store.verify_audit() == []
        check = store.check_audit(key=key)
        assert check.problems == [] and check.seal_checked
        epochs = store._db.execute("SELECT COUNT(*) FROM audit_seal_tags").fetchone()[0]
        assert epochs >= 2  # at least one epoch was closed while they wrote (and the start)
        for w in range(PROCESSES):
            mine = store.audit(actor=f"worker-{w}")
            # each process's own records are in the order it wrote them
            assert [r.params["i"] for r in reversed(mine)] == list(range(APPENDS))


def test_a_writer_that_holds_the_file_too_long_is_one_sentence(db_path: Path) -> None:
    store = Store(db_path, busy_timeout_s=0.2)
    blocker = sqlite3.connect(db_path)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StoreError) as caught:
            store.append_audit(actor="a", role="admin", action="x", target="y")
    finally:
        blocker.rollback()
        blocker.close()
    message = str(caught.value)
    assert "locked" not in message and "another process" in message and "\n" not in message
    assert store.count_audit() == 0
    assert store.append_audit(actor="a", role="admin", action="x", target="y").id == 1
    assert store.verify_audit() == []
    store.close()
