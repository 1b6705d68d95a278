"""Inventory as last seen: the physical topology, hosts and VMs."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Sequence
from typing import Any

from vdctui.model import (
    Datastore,
    DatastoreKind,
    Disk,
    Host,
    HostState,
    Network,
    Nic,
    Rack,
    RackTotals,
    Room,
    Site,
    Topology,
    Vm,
    VmState,
)
from vdctui.store.base import StoreBase, like_pattern
from vdctui.store.errors import StoreError

VM_COLUMNS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(Vm))
HOST_COLUMNS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(Host))
# rows read back in bulk (100,000 VMs at a sync, 10,000 hosts at the first frame): an
# enum's value looked up in a dict, not by calling the enum; empty lists not parsed
_VM_STATES = {state.value: state for state in VmState}
_HOST_STATES = {state.value: state for state in HostState}
_DATASTORE_KINDS = {kind.value: kind for kind in DatastoreKind}
_VM_AT = {column: index for index, column in enumerate(VM_COLUMNS)}
_HOST_AT = {column: index for index, column in enumerate(HOST_COLUMNS)}
_NO_ITEMS = (None, "", "[]")


def _items_json(items: Sequence[Nic] | Sequence[Disk]) -> str:
    return json.dumps([dataclasses.astuple(item) for item in items]) if items else "[]"


def _vm_row(vm: Vm, seen_at: float) -> tuple[Any, ...]:
    values: list[Any] = [getattr(vm, column) for column in VM_COLUMNS]
    values[_VM_AT["state"]] = vm.state.value
    values[_VM_AT["nics"]] = _items_json(vm.nics)
    values[_VM_AT["disks"]] = _items_json(vm.disks)
    values.append(seen_at)
    return tuple(values)


def _vm(row: Sequence[Any]) -> Vm:
    values = list(row[: len(VM_COLUMNS)])
    values[_VM_AT["state"]] = _VM_STATES.get(row[_VM_AT["state"]]) or VmState(row[_VM_AT["state"]])
    nics, disks = row[_VM_AT["nics"]], row[_VM_AT["disks"]]
    values[_VM_AT["nics"]] = () if nics in _NO_ITEMS else tuple(Nic(*i) for i in json.loads(nics))
    values[_VM_AT["disks"]] = (
        () if disks in _NO_ITEMS else tuple(Disk(*i) for i in json.loads(disks))
    )
    for flag in (_VM_AT["persistent"], _VM_AT["autostart"]):
        values[flag] = None if values[flag] is None else bool(values[flag])
    values[_VM_AT["state_reason"]] = values[_VM_AT["state_reason"]] or ""
    return Vm(*values)


def _host_row(host: Host, seen_at: float) -> tuple[Any, ...]:
    values: list[Any] = []
    for column in HOST_COLUMNS:
        value = getattr(host, column)
        if column == "state":
            value = value.value
        elif column == "datastores":
            value = json.dumps(list(value))
        values.append(value)
    values.append(seen_at)
    return tuple(values)


def _host(row: Sequence[Any]) -> Host:
    values = list(row[: len(HOST_COLUMNS)])
    state = values[_HOST_AT["state"]]
    values[_HOST_AT["state"]] = _HOST_STATES.get(state) or HostState(state)
    stores = values[_HOST_AT["datastores"]]
    values[_HOST_AT["datastores"]] = () if stores in _NO_ITEMS else tuple(json.loads(stores))
    return Host(*values)


_VM_SELECT = f"SELECT {', '.join(VM_COLUMNS)} FROM vms"
_HOST_SELECT = f"SELECT {', '.join(HOST_COLUMNS)} FROM hosts"


def _upsert_sql(table: str, columns: Sequence[str]) -> str:
    names = ", ".join(columns)
    marks = ", ".join("?" for _ in columns)
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c != "name")
    return (
        f"INSERT INTO {table} ({names}) VALUES ({marks}) ON CONFLICT(name) DO UPDATE SET {updates}"
    )


_VM_UPSERT = _upsert_sql("vms", (*VM_COLUMNS, "seen_at"))
_HOST_UPSERT = _upsert_sql("hosts", (*HOST_COLUMNS, "seen_at"))

# Rows written per write transaction: a sync of 100,000 VMs holds the write lock for a
# few milliseconds at a time (its rows are made before the lock is taken), so another
# process's change waits for one chunk, not for the whole sync.
WRITE_CHUNK = 500


class InventoryStore(StoreBase):
    """Sites, rooms, racks, datastores, networks, hosts and VMs as last seen."""

    # The topology as last read, with the file's data_version then: read again only when
    # another connection has committed since (10,000 datastores are not read every
    # refresh), or when this one replaced it.
    _topology_read: tuple[int, Topology] | None = None

    # --- topology -------------------------------------------------------------

    def replace_topology(self, topology: Topology) -> None:
        """Make the stored topology exactly `topology` (order kept), in one transaction."""
        db = self._db
        self._topology_read = None
        with db.atomic():
            for table in ("sites", "rooms", "racks", "datastores", "networks"):
                db.execute(f"DELETE FROM {table}")
            db.conn.executemany(
                "INSERT INTO sites (name) VALUES (?)", [(s.name,) for s in topology.sites]
            )
            db.conn.executemany(
                "INSERT INTO rooms (name, site) VALUES (?, ?)",
                [(r.name, r.site) for r in topology.rooms],
            )
            db.conn.executemany(
                "INSERT INTO racks (name, room, site, power_budget_kw, uplink_gbps) "
                "VALUES (?, ?, ?, ?, ?)",
                [
                    (r.name, r.room, r.site, float(r.power_budget_kw), float(r.uplink_gbps))
                    for r in topology.racks
                ],
            )
            db.conn.executemany(
                "INSERT INTO datastores (name, kind, capacity_gib, room, host) "
                "VALUES (?, ?, ?, ?, ?)",
                [
                    (d.name, d.kind.value, float(d.capacity_gib), d.room, d.host)
                    for d in topology.datastores
                ],
            )
            db.conn.executemany(
                "INSERT INTO networks (name, vlan) VALUES (?, ?)",
                [(n.name, n.vlan) for n in topology.networks],
            )
        self._topology_read = None

    def topology(self) -> Topology:
        """The topology as last replaced (empty before the first replace)."""
        version = int(self._db.conn.execute("PRAGMA data_version").fetchone()[0])
        if self._topology_read is not None and self._topology_read[0] == version:
            return self._topology_read[1]
        topology = self._read_topology()
        self._topology_read = (version, topology)
        return topology

    def _read_topology(self) -> Topology:
        q = self._db.execute
        return Topology(
            sites=tuple(Site(r[0]) for r in q("SELECT name FROM sites ORDER BY rowid")),
            rooms=tuple(Room(r[0], r[1]) for r in q("SELECT name, site FROM rooms ORDER BY rowid")),
            racks=tuple(
                Rack(*r)
                for r in q(
                    "SELECT name, room, site, power_budget_kw, uplink_gbps "
                    "FROM racks ORDER BY rowid"
                )
            ),
            datastores=tuple(
                Datastore(r[0], _DATASTORE_KINDS.get(r[1]) or DatastoreKind(r[1]), *r[2:])
                for r in q(
                    "SELECT name, kind, capacity_gib, room, host FROM datastores ORDER BY rowid"
                )
            ),
            networks=tuple(
                Network(r[0], r[1]) for r in q("SELECT name, vlan FROM networks ORDER BY rowid")
            ),
        )

    # --- hosts ----------------------------------------------------------------

    def upsert_hosts(self, hosts: Iterable[Host], seen_at: float | None = None) -> None:
        """Record hosts as seen at `seen_at` (now by default); others are left alone. More
        than WRITE_CHUNK hosts are written in several short transactions."""
        stamp = self._now() if seen_at is None else float(seen_at)
        self._write_rows(_HOST_UPSERT, [_host_row(h, stamp) for h in hosts])

    def _write_rows(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        """`rows` made beforehand, written WRITE_CHUNK to a transaction (all in one when
        a transaction is already open)."""
        for start in range(0, len(rows), WRITE_CHUNK):
            with self._db.atomic():
                self._db.conn.executemany(sql, rows[start : start + WRITE_CHUNK])

    def hosts_seen(self, names: Iterable[str], seen_at: float) -> None:
        """Record the named hosts as seen at `seen_at`, their figures as they were (a sync
        that read only what changed: they answered, and nothing of them changed)."""
        stamp = float(seen_at)
        self._write_rows("UPDATE hosts SET seen_at = ? WHERE name = ?", [(stamp, n) for n in names])

    def remove_hosts(self, names: Iterable[str]) -> int:
        """Forget hosts by name; return how many were removed."""
        with self._db.atomic():
            cursor = self._db.conn.executemany(
                "DELETE FROM hosts WHERE name = ?", [(n,) for n in names]
            )
        return max(cursor.rowcount, 0)

    def last_seen(self) -> float | None:
        """When a host was last recorded as seen (the newest sync), or None."""
        row = self._db.execute("SELECT MAX(seen_at) FROM hosts").fetchone()
        return None if row is None or row[0] is None else float(row[0])

    def hosts(self) -> list[Host]:
        """Every host, by name."""
        return [_host(r) for r in self._db.execute(f"{_HOST_SELECT} ORDER BY name")]

    def rack_totals(self) -> dict[str, RackTotals]:
        """Each rack's hosts added up (one aggregate query, no host read): what the
        inventory tree's first frame shows."""
        rows = self._db.execute(
            "SELECT rack, COUNT(*), TOTAL(power_watts), COUNT(*) - COUNT(power_watts), "
            "SUM(state != ?) FROM hosts GROUP BY rack",
            [HostState.UP.value],
        )
        return {
            rack: RackTotals(int(hosts), float(watts), int(no_reading), int(not_up))
            for rack, hosts, watts, no_reading, not_up in rows
        }

    def host_states(self, names: Iterable[str] | None = None) -> dict[str, tuple[HostState, float]]:
        """Each host's state and when it last answered (0.0: never), by name; only the
        hosts `names` (those that exist) when given. Reads two columns, not whole hosts:
        what a list needs to say whether what it shows is fresh or stale."""
        query = "SELECT name, state, seen_at FROM hosts"
        rows = (
            self._db.execute(query)
            if names is None
            else self._db.execute(
                f"{query} WHERE name IN (SELECT value FROM json_each(?))", [json.dumps(list(names))]
            )
        )
        return {
            name: (_HOST_STATES.get(state) or HostState(state), float(seen_at))
            for name, state, seen_at in rows
        }

    def host(self, name: str) -> Host | None:
        row = self._db.execute(f"{_HOST_SELECT} WHERE name = ?", [name]).fetchone()
        return None if row is None else _host(row)

    # --- VMs ------------------------------------------------------------------

    def upsert_vms(self, vms: Iterable[Vm], seen_at: float | None = None) -> None:
        """Record VMs as seen at `seen_at` (now by default); others are left alone. More
        than WRITE_CHUNK VMs are written in several short transactions."""
        stamp = self._now() if seen_at is None else float(seen_at)
        self._write_rows(_VM_UPSERT, [_vm_row(vm, stamp) for vm in vms])

    def remove_vms(self, names: Iterable[str]) -> int:
        """Forget VMs by name (and the cores they held); return how many were removed."""
        with self._db.atomic():
            rows = [(n,) for n in names]
            cursor = self._db.conn.executemany("DELETE FROM vms WHERE name = ?", rows)
            self._db.conn.executemany("DELETE FROM vm_cpus WHERE vm = ?", rows)  # its pins
        return max(cursor.rowcount, 0)

    def vm(self, name: str) -> Vm | None:
        row = self._db.execute(f"{_VM_SELECT} WHERE name = ?", [name]).fetchone()
        return None if row is None else _vm(row)

    def vms_after(self, name: str, limit: int) -> list[Vm]:
        """Up to `limit` VMs whose names come after `name`, by name: the whole table read
        a page at a time (a 100,000-VM read that leaves the event loop free between)."""
        rows = self._db.execute(f"{_VM_SELECT} WHERE name > ? ORDER BY name LIMIT ?", [name, limit])
        return [_vm(r) for r in rows]

    def vm_seen_at(self, name: str) -> float | None:
        """When the VM was last seen, or None if the store does not know it."""
        row = self._db.execute("SELECT seen_at FROM vms WHERE name = ?", [name]).fetchone()
        return None if row is None else float(row[0])

    def vms(
        self,
        *,
        host: str | None = None,
        state: VmState | str | None = None,
        pool: str | None = None,
        text: str | None = None,
        order_by: str = "name",
        descending: bool = False,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[Vm]:
        """A page of VMs matching every filter given (text: a substring of the name).

        `order_by` is a Vm field; ties are broken by name so pages never overlap.
        """
        if order_by not in VM_COLUMNS:
            raise StoreError(f"cannot order VMs by {order_by!r} (one of: {', '.join(VM_COLUMNS)})")
        if limit is not None and limit < 0:
            raise StoreError(f"limit must be zero or more, not {limit}")
        if offset < 0:
            raise StoreError(f"offset must be zero or more, not {offset}")
        where, params = self._vm_filters(host, state, pool, text)
        direction = "DESC" if descending else "ASC"
        order = f"{order_by} {direction}"
        if order_by != "name":
            order += f", name {direction}"
        sql = f"{_VM_SELECT}{where} ORDER BY {order} LIMIT ? OFFSET ?"
        params += [-1 if limit is None else limit, offset]
        return [_vm(r) for r in self._db.execute(sql, params)]

    def count_vms(
        self,
        *,
        host: str | None = None,
        state: VmState | str | None = None,
        pool: str | None = None,
        text: str | None = None,
    ) -> int:
        """How many VMs match the same filters as `vms`."""
        where, params = self._vm_filters(host, state, pool, text)
        return int(self._db.execute(f"SELECT COUNT(*) FROM vms{where}", params).fetchone()[0])

    def count_hosts(self, *, state: HostState | None = None) -> int:
        """How many hosts (in `state`, if given) the store last saw."""
        if state is None:
            return int(self._db.execute("SELECT COUNT(*) FROM hosts").fetchone()[0])
        row = self._db.execute("SELECT COUNT(*) FROM hosts WHERE state = ?", [state.value])
        return int(row.fetchone()[0])

    def allocated_by_host(self) -> dict[str, tuple[int, int]]:
        """vCPUs and MiB held on each host by its VMs that are not shut off."""
        rows = self._db.execute(
            "SELECT host, SUM(vcpus), SUM(memory_mib) FROM vms "
            "WHERE host IS NOT NULL AND state != ? GROUP BY host",
            [VmState.SHUTOFF.value],
        )
        return {host: (int(vcpus), int(memory)) for host, vcpus, memory in rows}

    @staticmethod
    def _vm_filters(
        host: str | None, state: VmState | str | None, pool: str | None, text: str | None
    ) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        if host is not None:
            clauses.append("host = ?")
            params.append(host)
        if state is not None:
            clauses.append("state = ?")
            params.append(state.value if isinstance(state, VmState) else VmState.parse(state).value)
        if pool is not None:
            clauses.append("pool = ?")
            params.append(pool)
        if text:
            clauses.append("name LIKE ? ESCAPE '\\'")
            params.append(like_pattern(text))
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        return where, params
