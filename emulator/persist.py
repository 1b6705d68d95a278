"""The fleet's own SQLite file: one row per object, only changed rows rewritten.

Each save is one transaction (WAL journal), so a crash mid-save leaves the
previous state. Running migrations are not saved: after a reopen their VMs
are still on the source, running.

Each host's energy counter moves all the time, so writing it is most of a small save's
work (10,000 floats at 10,000 hosts: ~30 ms). A save made after one change can leave it
out (`host_energy=False`); the file then keeps the counters of the last save that wrote
them, with when (`energy_at`), and a load credits each host the time since at the draw
it has once loaded. The fleet's total energy and its clock are written by every save.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable
from dataclasses import MISSING
from pathlib import Path
from typing import Any

from .errors import FleetFileError
from .fleet import Fleet
from .services import Service
from .snapshots import Snapshot
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
    "service": (Service, "services"),
    "snapshot": (Snapshot, "snapshots"),
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
    """A fleet stored in one SQLite file.

    A new file is created 0660 less the umask before SQLite opens it (SQLite gives its
    -wal and -shm files the same mode). `read_only=True` opens an existing file without
    writing anything to it (no schema, no journal mode change) and refuses `save`.
    """

    def __init__(self, path: str | Path, *, read_only: bool = False) -> None:
        self.path = Path(path)
        self.read_only = read_only
        # one thread at a time, but not always the one that opened it (loaded in a worker)
        if read_only:
            self.conn = _open_read_only(self.path)
            return
        _create_private(self.path)
        self.conn = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.executescript(SCHEMA)

    def exists(self) -> bool:
        """Whether the file holds a fleet (a new or emptied file does not)."""
        try:
            row = self.conn.execute("SELECT 1 FROM meta WHERE key = 'seed'").fetchone()
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                return False
            raise
        return row is not None

    def close(self) -> None:
        self.conn.close()

    def save(self, fleet: Fleet, *, full: bool = False, host_energy: bool = True) -> int:
        """Write changed objects (or all), the clock, counters, faults and energy; return
        rows. `host_energy=False` leaves each host's energy counter as last written (see
        the module's docstring), unless the save is full."""
        if self.read_only:
            raise FleetFileError(f"{self.path} was opened read-only; nothing was saved.")
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
            "unplugged": {h: sorted(nets) for h, nets in fleet.unplugged.items() if nets},
            "autostart": sorted(n for n in fleet.autostart if n in fleet.vms),
            "energy_total": fleet.energy_j,
            "pins": {vm: list(p) for vm, p in fleet.pins.items() if vm in fleet.vms},
            "memory_nodes": {
                vm: list(n) for vm, n in fleet.memory_nodes.items() if vm in fleet.vms
            },
            "flows": fleet.flow_state_to_save(),
        }
        if full or host_energy:
            meta["energy"] = {n: h.energy_at(fleet.now) for n, h in fleet.hosts.items()}
            meta["energy_at"] = fleet.now
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
        """Rebuild the fleet saved in this file; a row that does not read back (a missing
        key, bad JSON, a number that is not finite, a wrong type or count of fields) is a
        FleetFileError naming the file and the row."""
        self._reading = "its meta table"
        try:
            rows = self.conn.execute("SELECT key, value FROM meta")
            meta = {k: _loads(v) for k, v in rows}
            if "seed" not in meta:
                raise FileNotFoundError(f"{self.path} holds no fleet yet.")
            return self._load(meta)
        except (KeyError, ValueError, TypeError, IndexError, AttributeError) as exc:
            raise FleetFileError(
                f"The fleet file {self.path} is damaged ({_damage(exc)} in {self._reading}); "
                "restore it from a backup, or start anew with `vdctui emulate --fresh`."
            ) from None

    def _load(self, meta: dict[str, Any]) -> Fleet:
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
        fleet.restore_flow_state(meta.get("flows"))  # absent in files written before flows
        for vm, (vcpus, emulator) in dict(meta.get("pins", {})).items():  # absent before pins
            fleet.pins[vm] = (tuple(tuple(c) for c in vcpus), tuple(emulator))
        for vm, nodes in dict(meta.get("memory_nodes", {})).items():
            fleet.memory_nodes[vm] = tuple(nodes)
        fleet.unplugged = {h: set(nets) for h, nets in meta.get("unplugged", {}).items()}
        fleet.autostart = set(meta.get("autostart", []))
        energy: dict[str, float] = meta["energy"]
        for kind, (cls, attr) in KINDS.items():
            fields: tuple[str, ...] = cls.PERSIST
            cur = self.conn.execute(
                "SELECT name, data FROM object WHERE kind = ? ORDER BY rowid", (kind,)
            )
            for name, data in cur:
                self._reading = f"the {kind} row {name!r}"
                values = _loads(data)
                if not isinstance(values, list) or not _fields_fit(cls, fields, len(values)):
                    raise ValueError(f"not a list of the {len(fields)} fields of a {kind}")
                obj = cls(**dict(zip(fields, values, strict=False)))
                if kind == "host":
                    obj.power_curve = tuple(obj.power_curve)
                    obj.energy_j = energy.get(obj.name, 0.0)
                    fleet._attach_host(obj)
                elif kind == "datastore":
                    fleet._attach_datastore(obj)
                elif kind == "vm":
                    fleet._attach(obj)
                elif kind == "snapshot":
                    fleet.attach_snapshot(obj)
                elif kind == "trace":
                    obj = Trace(obj.name, tuple(obj.values), obj.interval_s, obj.aligned)
                    fleet.traces[obj.name] = obj
                else:
                    getattr(fleet, attr)[obj.name] = obj
        self._reading = "the fleet it describes"
        fleet.restore_runtime()
        # the hosts' counters were written at energy_at (older than `now` when the last
        # saves left them out): the time since is counted at the draw each host has now
        since = float(meta.get("energy_at", fleet.now))
        for name, h in fleet.hosts.items():
            if name in energy:  # (a host added since has counted from when it was added)
                h.energy_j += h.power_watts * max(fleet.now - since, 0.0)
        fleet._energy_j = float(meta["energy_total"])
        fleet._energy_since = fleet.now
        fleet._dirty.clear()
        fleet._deleted.clear()
        fleet._all_dirty = False
        fleet._quiet = False
        fleet.file = self
        fleet.emit("fleet.loaded", f"Fleet loaded from {self.path.name} at t={fleet.now:.0f} s.")
        return fleet


def _fields_fit(cls: Any, fields: tuple[str, ...], count: int) -> bool:
    """A row holds every field, or all but trailing ones added later with a default (a
    file written before them reads back with their defaults)."""
    if count == len(fields):
        return True
    if not 0 < count < len(fields):
        return False
    known = cls.__dataclass_fields__
    return all(_has_default(known[name]) for name in fields[count:])


def _has_default(spec: Any) -> bool:
    return spec.default is not MISSING or spec.default_factory is not MISSING


def _not_finite(text: str) -> float:
    raise ValueError(f"a number that is not finite ({text})")


def _loads(text: str) -> Any:
    """JSON as this file writes it: no NaN or Infinity (Python's json would accept them)."""
    return json.loads(text, parse_constant=_not_finite)


def _damage(exc: Exception) -> str:
    if isinstance(exc, KeyError):
        return f"no {exc.args[0]!r} key"
    if isinstance(exc, json.JSONDecodeError):
        return f"not JSON: {exc.msg} at column {exc.colno}"
    return str(exc).split("\n")[0] or type(exc).__name__


def _create_private(path: Path) -> None:
    """Create a new fleet file empty, 0660 less the umask (never world-readable), before
    SQLite opens it: SQLite gives the -wal and -shm files the same mode."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o660)
    except (FileExistsError, PermissionError):
        return  # an existing file keeps its mode; a folder we cannot write: SQLite says so
    os.close(fd)


def _open_read_only(path: Path) -> sqlite3.Connection:
    """Read an existing fleet file without writing to it or beside it. Without write access
    to the folder SQLite cannot make the WAL's shared memory; then read it as it is."""
    uri = path.resolve().as_uri()
    conn = sqlite3.connect(
        f"{uri}?mode=ro", uri=True, isolation_level=None, check_same_thread=False
    )
    try:
        conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
    except sqlite3.OperationalError:
        conn.close()
        if Path(f"{path}-wal").exists():
            raise
        conn = sqlite3.connect(
            f"{uri}?mode=ro&immutable=1", uri=True, isolation_level=None, check_same_thread=False
        )
    return conn


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
