"""`Store`: the console's memory in one SQLite file."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from vdctui.store.audit import AuditStore
from vdctui.store.connection import connect
from vdctui.store.errors import StoreError
from vdctui.store.history import HistoryStore
from vdctui.store.inventory import InventoryStore
from vdctui.store.operators import OperatorStore
from vdctui.store.pools import PoolStore
from vdctui.store.scheduling import SchedulingStore
from vdctui.store.schema import MIGRATIONS, Migration, migrate
from vdctui.store.syslog import SyslogCopy, syslog_setting

# How long a writer waits for another process's write transaction, per try (see txn.py).
BUSY_TIMEOUT_S = 5.0


class Store(InventoryStore, PoolStore, HistoryStore, AuditStore, SchedulingStore, OperatorStore):
    """Inventory as last seen, pools and flavors, tasks, history and the audit log.

    Synchronous, for one thread or one async loop. `Store(":memory:")` for tests.
    Opening brings the file up to the current schema (an up-to-date file is left
    alone); a file written by a newer vdctui raises `SchemaTooNew`.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        clock: Callable[[], float] = time.time,
        migrations: list[Migration] | None = None,
        busy_timeout_s: float = BUSY_TIMEOUT_S,
        syslog: str | None = None,
    ) -> None:
        self.path = str(path)
        self._clock = clock
        self._syslog = SyslogCopy(syslog_setting(syslog))
        try:
            self._db, self.writable = connect(self.path, busy_timeout_s)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the store {self.path}: {exc}") from exc
        conn = self._db.conn
        try:
            self._db.execute("PRAGMA synchronous=NORMAL")
            # Room for the audit indexes to grow without going to disk for every insert,
            # and fewer, larger WAL checkpoints during bulk appends.
            self._db.execute("PRAGMA cache_size=-65536")
            self._db.execute("PRAGMA wal_autocheckpoint=10000")
            self.schema_version = migrate(self._db, self.path, migrations, writable=self.writable)
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise StoreError(f"cannot open the store {self.path}: {exc}") from exc
        except BaseException:
            conn.close()
            raise
        self._open_audit()

    @property
    def latest_schema_version(self) -> int:
        return len(MIGRATIONS)

    def close(self) -> None:
        self._syslog.close()
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
