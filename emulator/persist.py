"""The fleet's own SQLite file: one row per object, only changed rows rewritten.

Each save is one transaction (WAL journal), so a crash mid-save leaves the
previous state. Running migrations are not saved: after a reopen their VMs
are still on the source, running.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .fleet import Fleet
from .topology import Datastore, Host, Network, Rack, Room, Site
from .vm import Vm
from .workload import Trace

KINDS: dict[str, tuple[Any, str]] = {
    # kind -> (class, Fleet attribute); load order matters
    "site": (Site, "sites"),
    "room": (Room, "rooms"),
    "rack": (Rack, "racks"),
    "network": (Network, "networks"),
    "trace": (Trace, "traces"),
    "host": (Host, "hosts"),
    "datastore": (Datastore, "datastores"),
    "vm": (Vm, "vms"),
}
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS object (
    kind TEXT NOT NULL, name TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (kind, name)
);
"""
UPSERT = (
    "INSERT INTO object (kind, name, data) VALUES (?, ?, ?) "
    "ON CONFLICT (kind, name) DO UPDATE SET data = excluded.data"
)


def _row(kind: str, obj: Any) -> tuple[str, str, str]:
    fields = type(obj).PERSIST
    return (kind, obj.name, json.dumps([getattr(obj, f) for f in fields]))


class FleetFile:
    """A fleet stored in one SQLite file."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        # one thread at a time, but not always the one that opened it (loaded in a worker)
        self.conn = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.executescript(SCHEMA)

    def exists(self) -> bool:
        row = self.conn.execute("SELECT 1 FROM meta WHERE key = 'seed'").fetchone()
        return row is not None

    def close(self) -> None:
        self.conn.close()

    def save(self, fleet: Fleet, *, full: bool = False) -> int:
        """Write changed objects (or all), the clock, counters, faults and energy; return rows."""
        full = full or fleet._all_dirty or not self.exists()
        if full:
            rows = [
                _row(kind, obj)
                for kind, (_, attr) in KINDS.items()
                for obj in getattr(fleet, attr).values()
            ]
            deleted: list[tuple[str, str]] = []
        else:
            rows = []
            for kind, name in fleet._dirty:
                obj = getattr(fleet, KINDS[kind][1]).get(name)
                if obj is not None:
                    rows.append(_row(kind, obj))
            deleted = sorted(fleet._deleted)
        meta = {
            "seed": fleet.seed,
            "now": fleet.now,
            "counters": [
                fleet.migrations_completed,
                fleet.migrations_failed,
                fleet.host_failures,
                fleet._next_migration_id,
                fleet._event_seq,
            ],
            "fail_next": fleet.fail_next,
            "energy_total": fleet.energy_j,
            "energy": {n: h.energy_at(fleet.now) for n, h in fleet.hosts.items()},
        }
        c = self.conn
        c.execute("BEGIN IMMEDIATE")
        try:
            if full:
                c.execute("DELETE FROM object")
            c.executemany(UPSERT, rows)
            c.executemany("DELETE FROM object WHERE kind = ? AND name = ?", deleted)
            c.executemany(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                [(k, json.dumps(v)) for k, v in meta.items()],
            )
            c.execute("COMMIT")
        except BaseException:
            c.execute("ROLLBACK")
            raise
        fleet._dirty.clear()
        fleet._deleted.clear()
        fleet._all_dirty = False
        fleet.file = self
        return len(rows)

    def load(self) -> Fleet:
        """Rebuild the fleet saved in this file."""
        meta = {k: json.loads(v) for k, v in self.conn.execute("SELECT key, value FROM meta")}
        if "seed" not in meta:
            raise FileNotFoundError(f"{self.path} holds no fleet yet.")
        fleet = Fleet(seed=int(meta["seed"]))
        fleet._quiet = True
        fleet.now = float(meta["now"])
        (
            fleet.migrations_completed,
            fleet.migrations_failed,
            fleet.host_failures,
            fleet._next_migration_id,
            fleet._event_seq,
        ) = meta["counters"]
        fleet.fail_next = dict(meta["fail_next"])
        energy: dict[str, float] = meta["energy"]
        for kind, (cls, attr) in KINDS.items():
            fields: tuple[str, ...] = cls.PERSIST
            cur = self.conn.execute(
                "SELECT data FROM object WHERE kind = ? ORDER BY rowid", (kind,)
            )
            for (data,) in cur:
                obj = cls(**dict(zip(fields, json.loads(data), strict=True)))
                if kind == "host":
                    obj.power_curve = tuple(obj.power_curve)
                    obj.energy_j = energy.get(obj.name, 0.0)
                    fleet._attach_host(obj)
                elif kind == "datastore":
                    fleet._attach_datastore(obj)
                elif kind == "vm":
                    fleet._attach(obj)
                elif kind == "trace":
                    obj = Trace(obj.name, tuple(obj.values), obj.interval_s)
                    fleet.traces[obj.name] = obj
                else:
                    getattr(fleet, attr)[obj.name] = obj
        fleet.restore_runtime()
        fleet._energy_j = float(meta["energy_total"])
        fleet._energy_since = fleet.now
        fleet._dirty.clear()
        fleet._deleted.clear()
        fleet._all_dirty = False
        fleet._quiet = False
        fleet.file = self
        fleet.emit("fleet.loaded", f"Fleet loaded from {self.path.name} at t={fleet.now:.0f} s.")
        return fleet


def open_fleet(path: str | Path, create: Callable[[], Fleet] | None = None) -> Fleet:
    """Load the fleet in `path`, or build it with `create()` and save it there."""
    ff = FleetFile(path)
    if ff.exists():
        return ff.load()
    if create is None:
        ff.close()
        raise FileNotFoundError(f"{path} holds no fleet and no create function was given.")
    fleet = create()
    ff.save(fleet, full=True)
    return fleet
