"""A write waits its turn behind other processes' writes, up to a bound; beyond it the
operator reads one sentence, never "database is locked"."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.cli.conftest import Vdctui
from vdctui.model import Role
from vdctui.ops import Console, Failed, Identity
from vdctui.ops.identity import set_operator_role
from vdctui.store import Store
from vdctui.store.txn import StoreBusy


@contextmanager
def write_lock_held(db: Path) -> Iterator[sqlite3.Connection]:
    """Another writer holding the store's write lock (as a long transaction would)."""
    other = sqlite3.connect(db, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield other
    finally:
        other.execute("ROLLBACK")
        other.close()


def test_a_write_waits_for_another_writer_to_finish(db_path: Path) -> None:
    Store(db_path).close()
    with Store(db_path, busy_timeout_s=10) as store:
        other = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)
        other.execute("BEGIN IMMEDIATE")
        release = threading.Timer(0.3, lambda: other.execute("COMMIT"))
        release.start()
        task = store.create_task("check", "web-1", "alice", {})
        release.join()
        other.close()
        assert store.task(task.id) is not None


def test_beyond_the_wait_one_sentence(db_path: Path) -> None:
    Store(db_path).close()
    with Store(db_path, busy_timeout_s=0.2) as store, write_lock_held(db_path):
        with pytest.raises(StoreBusy) as caught:
            store.create_task("check", "web-1", "alice", {})
        assert "stayed busy with another vdctui process" in str(caught.value)
        assert "locked" not in str(caught.value)
    with Store(db_path) as store:
        assert store.tasks() == []  # nothing half-written


async def test_the_door_says_it_as_a_failure(db_path: Path) -> None:
    from vdctui.drivers.pending import PendingDriver

    Store(db_path).close()
    console = Console(
        Store(db_path, busy_timeout_s=0.2), PendingDriver(), Identity("root", Role.ADMIN)
    )
    with write_lock_held(db_path), pytest.raises(Failed, match="stayed busy"):
        await set_operator_role(console, "nobody", Role.OPERATOR)
    assert console.store.operator_role("nobody") is None
    console.store.close()


def test_the_cli_says_it_in_one_sentence(db_path: Path) -> None:
    Store(db_path).close()
    with write_lock_held(db_path):
        result = Vdctui(db_path)("operator", "set", "nobody", "--role", "operator")
    assert result.exit_code == 1
    assert result.stderr.startswith("vdctui: ") and "stayed busy" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "locked" not in result.output and "Traceback" not in result.output
