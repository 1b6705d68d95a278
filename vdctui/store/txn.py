"""Write transactions that several processes can share one file with.

`BEGIN IMMEDIATE` takes SQLite's write lock before anything is read, so what a
transaction reads (the audit head, the seal's key) is still true when it
writes: two processes appending at once are serialized, never interleaved. A
writer waits for another one (SQLite's busy handler, up to the store's busy
timeout) and retries a busy transaction a few times; beyond that bound the
operator gets one sentence, never "database is locked".
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

from vdctui.store.errors import StoreError

RETRIES = 3
T = TypeVar("T")


class StoreBusy(StoreError):
    """Another process held the file's write lock longer than the store waits."""


def is_busy(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def busy_sentence(path: str, waited_s: float, what: str) -> str:
    return (
        f"{what} was not done: another process kept {path} busy for "
        f"{waited_s:.0f} s; try again when it is done"
    )


@contextlib.contextmanager
def immediate(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction that holds the write lock from its first statement.

    Inside a transaction the caller already opened, a savepoint instead (the
    outer transaction owns the lock). Raises `sqlite3.OperationalError` when
    the lock could not be had within the connection's busy timeout.
    """
    if conn.in_transaction:
        name = f"vdctui_{os.urandom(8).hex()}"  # a savepoint's: unique
        conn.execute(f"SAVEPOINT {name}")
        try:
            yield conn
        except BaseException:
            if conn.in_transaction:
                conn.execute(f"ROLLBACK TO SAVEPOINT {name}")
                conn.execute(f"RELEASE SAVEPOINT {name}")
            raise
        conn.execute(f"RELEASE SAVEPOINT {name}")
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.rollback()
        raise


def retrying(conn: sqlite3.Connection, path: str, what: str, attempt: Callable[[], T]) -> T:
    """Run `attempt` (which opens its own `immediate` transaction) until it gets
    the write lock, at most RETRIES times; then one sentence (`StoreBusy`)."""
    started = time.monotonic()
    for tries in range(1, RETRIES + 1):
        try:
            return attempt()
        except sqlite3.OperationalError as exc:
            if not is_busy(exc):
                raise
            if tries == RETRIES or conn.in_transaction:
                waited = time.monotonic() - started
                raise StoreBusy(busy_sentence(path, waited, what)) from None
    raise AssertionError("unreachable")
