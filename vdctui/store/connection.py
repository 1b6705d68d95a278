"""Opening the store's SQLite file so that many processes can share it.

Reads never wait (WAL). Every write transaction starts with BEGIN IMMEDIATE, so
it takes the write lock before it reads anything and waits for it (a bounded
busy timeout) instead of failing half-way; past the bound it is one sentence
(`StoreBusy`), never "database is locked". A user who cannot write the file
gets a read-only connection (`writable` is False).

The connection is wrapped here, not in sqlite-utils' Database: opening a store
must not import sqlite-utils (and the numpy it pulls in) before the console's
first frame; sqlite-utils builds tables only when a schema migration runs.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Callable, Generator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from vdctui.store.txn import StoreBusy, is_busy

if TYPE_CHECKING:
    from sqlite_utils import Database
    from sqlite_utils.db import Table

T = TypeVar("T")
# statements that begin or end a transaction themselves (never committed behind them)
_TRANSACTION_CONTROL = frozenset({"BEGIN", "COMMIT", "END", "ROLLBACK", "SAVEPOINT", "RELEASE"})


def retry_busy(path: str, attempt: Callable[[], T], *, waited_s: float) -> T:
    """Run `attempt` again (with a short backoff) while the file is busy, up to
    `waited_s` seconds; then StoreBusy. For statements SQLite's busy handler does
    not cover (changing the journal mode, a snapshot gone stale)."""
    deadline = time.monotonic() + waited_s
    pause = 0.005
    while True:
        try:
            return attempt()
        except sqlite3.OperationalError as exc:
            if not is_busy(exc):
                raise
            if time.monotonic() >= deadline:
                raise StoreBusy(
                    f"{path} stayed busy with another vdctui process for {waited_s:g} s, "
                    "so this was not written; try again"
                ) from None
            time.sleep(pause)
            pause = min(pause * 2, 0.2)


class SharedDatabase:
    """An SQLite connection whose transactions take the write lock first.

    `execute` commits a write it ran outside a transaction at once (as sqlite-utils 4
    does); `atomic()` is BEGIN IMMEDIATE ... COMMIT, a savepoint when nested."""

    def __init__(self, conn: sqlite3.Connection, path: str = "", busy_timeout_s: float = 5.0):
        self.conn = conn
        self.path = path
        self.busy_timeout_s = busy_timeout_s
        self._utilities: Database | None = None

    def execute(self, sql: str, parameters: Any = None) -> sqlite3.Cursor:
        conn = self.conn
        was_in_transaction = conn.in_transaction
        try:
            cursor = conn.execute(sql) if parameters is None else conn.execute(sql, parameters)
        except Exception:
            if not was_in_transaction and conn.in_transaction:
                conn.execute("ROLLBACK")  # the implicit transaction the statement opened
            raise
        if (
            not was_in_transaction
            and conn.in_transaction
            and cursor.description is None
            and _first_keyword(sql) not in _TRANSACTION_CONTROL
        ):
            conn.execute("COMMIT")
        return cursor

    def table_names(self) -> list[str]:
        rows = self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return [row[0] for row in rows]

    def table(self, name: str) -> Table:
        """sqlite-utils' table `name` over this connection (imported on first use: only
        schema migrations build tables with it)."""
        return self.utilities().table(name)

    def utilities(self) -> Database:
        if self._utilities is None:
            from sqlite_utils import Database

            self._utilities = Database(self.conn, recursive_triggers=False, execute_plugins=False)
        return self._utilities

    @contextlib.contextmanager
    def atomic(self) -> Generator[SharedDatabase, None, None]:
        if self.conn.in_transaction:  # a savepoint inside the open transaction
            name = f"vdctui_{os.urandom(8).hex()}"  # a savepoint's: unique
            self.conn.execute(f"SAVEPOINT {name}")
            try:
                yield self
            except BaseException:
                if self.conn.in_transaction:  # a RAISE(ROLLBACK) may have ended it all
                    self.conn.execute(f"ROLLBACK TO SAVEPOINT {name}")
                    self.conn.execute(f"RELEASE SAVEPOINT {name}")
                raise
            self.conn.execute(f"RELEASE SAVEPOINT {name}")
            return
        retry_busy(
            self.path, lambda: self.conn.execute("BEGIN IMMEDIATE"), waited_s=self.busy_timeout_s
        )
        try:
            yield self
        except BaseException:
            self.rollback()
            raise
        try:
            retry_busy(self.path, lambda: self.conn.execute("COMMIT"), waited_s=self.busy_timeout_s)
        except BaseException:
            self.rollback()
            raise

    def rollback(self) -> None:
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")

    def enable_wal(self) -> None:
        if self.conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            if self.conn.in_transaction:
                raise sqlite3.OperationalError("cannot enable WAL inside a transaction")
            self.conn.execute("PRAGMA journal_mode=wal")

    def close(self) -> None:
        self.conn.close()


def _first_keyword(sql: str) -> str:
    words = sql.lstrip(" \t\r\n;(").split(None, 1)
    return words[0].rstrip(";").upper() if words else ""


def can_write(path: str) -> bool:
    """Whether this process may write the store at `path` (and its journal beside it)."""
    if path == ":memory:":
        return True
    file = Path(path)
    folder = file.parent
    if file.exists() and not os.access(file, os.W_OK):
        return False
    return os.access(folder, os.W_OK | os.X_OK)


def create_shared_file(path: str | Path) -> None:
    """Create an empty file 0660 less the umask unless it exists: readable and writable
    by the group where the umask allows, never by the world. SQLite makes new files 0644
    less the umask, and its -wal and -shm files copy the db file's mode (SQLite's unix
    VFS): so without this, a group that shares a data center (umask 0007, a setgid
    directory) could never write what one member created, and with the common umask
    0022 everyone on the machine could read the store and its write-ahead log."""
    with contextlib.suppress(OSError):  # there already, or not ours to make: SQLite says
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o660))


def connect(path: str, busy_timeout_s: float) -> tuple[SharedDatabase, bool]:
    """Open `path` for many processes; returns the database and whether it is writable.
    A file this process cannot write is opened read-only (sqlite3.Error on failure)."""
    writable = can_write(path)
    if writable and path != ":memory:" and not path.startswith("file:"):
        create_shared_file(path)
    if writable:
        conn = sqlite3.connect(path, check_same_thread=False, timeout=busy_timeout_s)
    else:
        conn = _read_only(path, busy_timeout_s)
    db = SharedDatabase(conn, path, busy_timeout_s)
    conn.execute(f"PRAGMA busy_timeout={int(busy_timeout_s * 1000)}")
    if writable and path != ":memory:":
        retry_busy(path, db.enable_wal, waited_s=busy_timeout_s)
    if not writable:
        conn.execute("PRAGMA query_only=1")
    return db, writable


def _read_only(path: str, busy_timeout_s: float) -> sqlite3.Connection:
    """A read-only connection. Without write access to the folder SQLite cannot make the
    WAL's shared-memory file; when no writer has one open, read the file as it is."""
    uri = Path(path).resolve().as_uri()
    conn = sqlite3.connect(
        f"{uri}?mode=ro", uri=True, check_same_thread=False, timeout=busy_timeout_s
    )
    try:
        conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
    except sqlite3.OperationalError:
        conn.close()
        if Path(f"{path}-wal").exists():
            raise
        conn = sqlite3.connect(f"{uri}?mode=ro&immutable=1", uri=True, check_same_thread=False)
    return conn
