"""When the fleet's figures were last read: CPU, memory used, power (and the trends).

A whole sync reads every figure with the states; the syncs between two whole ones (a big
embedded fleet, read through its change feed: vdctui.ops.sync_changes) read the states
of what changed. The store keeps when the last whole sync read the figures, one row, so
every process that shows a figure (a console following the store, `host list`) can say
how old it is. When the states were read is the newest host's `seen_at`.
"""

from __future__ import annotations

from vdctui.store.base import StoreBase


def migration_figures(db) -> None:  # type: ignore[no-untyped-def]
    db.execute(
        """CREATE TABLE figures_read (
            id INTEGER PRIMARY KEY CHECK (id = 1), at REAL NOT NULL)"""
    )


class FiguresStore(StoreBase):
    def figures_read(self, at: float) -> None:
        """Every figure of the fleet was read at `at` (a whole sync's time)."""
        with self._db.atomic():
            self._db.execute(
                "INSERT INTO figures_read (id, at) VALUES (1, ?) "
                "ON CONFLICT(id) DO UPDATE SET at = excluded.at",
                [float(at)],
            )

    def figures_read_at(self) -> float | None:
        """When the last whole sync read the fleet's figures; None: never (as far as the
        store knows)."""
        row = self._db.execute("SELECT at FROM figures_read WHERE id = 1").fetchone()
        return None if row is None else float(row[0])
