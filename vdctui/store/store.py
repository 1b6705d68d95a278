"""`Store`: the console's memory in one SQLite file."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from vdctui.files import damaged_sentence, integrity_problems, os_sentence, quick_check
from vdctui.model import AuditProblem
from vdctui.store.audit import AuditStore
from vdctui.store.connection import connect
from vdctui.store.cores import CoreStore
from vdctui.store.errors import StoreError
from vdctui.store.figures import FiguresStore
from vdctui.store.history import HistoryStore
from vdctui.store.inventory import InventoryStore
from vdctui.store.operators import OperatorStore
from vdctui.store.owners import Owner
from vdctui.store.pools import PoolStore
from vdctui.store.power_offs import PowerOffStore
from vdctui.store.requests import RequestStore
from vdctui.store.scheduling import SchedulingStore
from vdctui.store.schema import MIGRATIONS, TABLES, Migration, migrate
from vdctui.store.secgroups import SecurityGroupStore
from vdctui.store.services import ServiceStore
from vdctui.store.syslog import SyslogCopy, syslog_setting

# How long a writer waits for another process's write transaction, per try (see txn.py).
BUSY_TIMEOUT_S = 5.0


class Store(
    InventoryStore,
    PoolStore,
    HistoryStore,
    AuditStore,
    SchedulingStore,
    OperatorStore,
    ServiceStore,
    CoreStore,
    SecurityGroupStore,
    RequestStore,
    PowerOffStore,
    FiguresStore,
):
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
            raise StoreError(self._cannot_open(exc)) from exc
        except OSError as exc:
            raise StoreError(os_sentence(exc, "open the store")) from exc
        conn = self._db.conn
        try:
            self._db.execute("PRAGMA synchronous=NORMAL")
            # Room for the audit indexes to grow without going to disk for every insert,
            # and fewer, larger WAL checkpoints during bulk appends.
            self._db.execute("PRAGMA cache_size=-65536")
            self._db.execute("PRAGMA wal_autocheckpoint=10000")
            self.schema_version = migrate(self._db, self.path, migrations, writable=self.writable)
            if migrations is None:
                self._check_tables()
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise StoreError(self._cannot_open(exc)) from exc
        except BaseException:
            conn.close()
            raise
        self._open_audit()
        self.owner = Owner.this_process()
        self.owner.open()

    def _cannot_open(self, exc: sqlite3.Error) -> str:
        if self.path != ":memory:" and isinstance(exc, sqlite3.DatabaseError):
            problems = integrity_problems(Path(self.path))
            if problems and problems != ["file is not a database"]:
                return damaged_sentence(Path(self.path), problems)
        return f"cannot open the store {self.path}: {exc}; move it away or use another --db."

    def _check_tables(self) -> None:
        """A file at the current version holds every table of it; one dropped by hand is
        named now, not as "no such table" in the middle of a command."""
        found = {
            row[0] for row in self._db.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
        missing = sorted(TABLES - found)
        if missing:
            raise StoreError(
                f"{self.path} has no {', '.join(repr(t) for t in missing)} table: the file "
                "is damaged; restore it from a backup, or move it away to start anew."
            )

    def file_problems(self) -> list[AuditProblem]:
        """What is damaged in the file itself, as audit problems with record id 0 (a chain
        that holds in a file with damaged pages is not a sound log); [] when sound."""
        problems = self.integrity_problems()
        return [AuditProblem(0, damaged_sentence(Path(self.path), problems))] if problems else []

    def integrity_problems(self) -> list[str]:
        """What SQLite's `PRAGMA quick_check` finds wrong in the file ([] when sound)."""
        return quick_check(self._db.conn)

    @property
    def latest_schema_version(self) -> int:
        return len(MIGRATIONS)

    def close(self) -> None:
        self.owner.close()
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
