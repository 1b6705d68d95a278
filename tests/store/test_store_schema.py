from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlite_utils import Database

from vdctui.model import Flavor
from vdctui.store import SchemaTooNew, Store, StoreError
from vdctui.store.schema import MIGRATIONS, migration_1

TABLES = {
    "schema_version", "sites", "rooms", "racks", "datastores", "networks", "hosts", "vms",
    "pools", "flavors", "tasks", "migrations", "events", "audit", "audit_head",
}  # fmt: skip


def _schema(path: Path) -> list[tuple[str, str]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT name, sql FROM sqlite_master ORDER BY name").fetchall()
    finally:
        conn.close()


def test_empty_file_gets_every_table(db_path: Path) -> None:
    with Store(db_path) as store:
        assert store.schema_version == len(MIGRATIONS) == store.latest_schema_version
        names = set(store._db.table_names())
        assert names >= TABLES
        rows = store._db.execute("SELECT version, description FROM schema_version").fetchall()
        assert rows[0] == (
            1,
            "Create everything: inventory, pools and flavors, tasks, history, audit.",
        )
        assert [r[0] for r in rows] == list(range(1, len(MIGRATIONS) + 1))


def test_file_is_wal_with_normal_sync(db_path: Path) -> None:
    with Store(db_path) as store:
        assert store._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert store._db.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL


def test_reopening_an_up_to_date_file_changes_nothing(db_path: Path) -> None:
    with Store(db_path) as store:
        store.upsert_flavor(Flavor("huge", 16, 65536, 320.0, 32, 131072))
    before = _schema(db_path)
    with Store(db_path) as store:
        assert store.schema_version == len(MIGRATIONS)
        count = store._db.execute("SELECT COUNT(*) FROM schema_version").fetchone()[0]
        assert count == len(MIGRATIONS)
        assert store.flavor("huge") == Flavor("huge", 16, 65536, 320.0, 32, 131072)
        assert len(store.flavors()) == 10  # seeds huge + 9 seeds, none inserted twice
    assert _schema(db_path) == before


def test_a_newer_file_is_refused(db_path: Path) -> None:
    Store(db_path).close()
    db = Database(db_path)
    newest = len(MIGRATIONS)
    db.execute(
        "INSERT INTO schema_version (version, applied, description) VALUES (?, 0, 'x')",
        [newest + 1],
    )
    db.close()
    with pytest.raises(
        SchemaTooNew, match=f"schema version {newest + 1}.*only up to version {newest}"
    ):
        Store(db_path)


def test_a_later_migration_is_applied_once(db_path: Path) -> None:
    Store(db_path, migrations=[migration_1]).close()
    calls: list[int] = []

    def migration_2(db: Database) -> None:
        """Add a notes table."""
        calls.append(2)
        db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")

    with Store(db_path, migrations=[migration_1, migration_2]) as store:
        assert store.schema_version == 2
        assert "notes" in store._db.table_names()
    with Store(db_path, migrations=[migration_1, migration_2]) as store:
        assert store.schema_version == 2
    assert calls == [2]
    with pytest.raises(SchemaTooNew):
        Store(db_path, migrations=[migration_1])  # a vdctui that only knows migration 1


def test_a_failing_migration_leaves_the_file_at_the_old_version(db_path: Path) -> None:
    Store(db_path, migrations=[migration_1]).close()

    def migration_2(db: Database) -> None:
        """Half-done work."""
        db.execute("CREATE TABLE half (id INTEGER PRIMARY KEY)")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        Store(db_path, migrations=[migration_1, migration_2])
    with Store(db_path, migrations=[migration_1]) as store:
        assert store.schema_version == 1
        assert "half" not in store._db.table_names()


def test_a_foreign_sqlite_file_is_refused(db_path: Path) -> None:
    db = Database(db_path)
    db.execute("CREATE TABLE other (x)")
    db.close()
    with pytest.raises(StoreError, match="not a vdctui store"):
        Store(db_path)


def test_a_file_that_is_not_sqlite_is_refused(db_path: Path) -> None:
    db_path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="cannot open the store"):
        Store(db_path)


def test_the_tables_a_store_is_checked_for_are_what_the_migrations_create() -> None:
    """schema.TABLES (what opening a store checks, without running the migrations) is
    exactly what MIGRATIONS create: a migration that adds or drops a table updates it."""
    from vdctui.store.schema import TABLES, migrate

    db = Database(sqlite3.connect(":memory:"))
    migrate(db, ":memory:")
    created = {t for t in db.table_names() if not t.startswith("sqlite_")}
    assert created == TABLES
