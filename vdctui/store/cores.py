"""What the console knows of cores: each host's CPU topology and reserved CPUs, and each
VM's CPU policy and pins (as the console chose and applied them)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from vdctui.model import CpuPolicy, CpuTopology, NumaNode, NumaPolicy, ThreadPolicy, VmCpus
from vdctui.store.base import StoreBase, to_json

if TYPE_CHECKING:  # sqlite-utils loads only when a migration runs
    from sqlite_utils import Database

# name, vCPUs, memory MiB, disk GiB, max vCPUs, max memory MiB: pinned flavors
DEDICATED_FLAVORS: tuple[tuple[str, int, int, float, int, int], ...] = (
    ("dedicated-small", 2, 4096, 20.0, 4, 8192),
    ("dedicated-medium", 4, 8192, 40.0, 8, 16384),
    ("dedicated-large", 8, 16384, 80.0, 16, 32768),
)


def migration_cores(db: Database) -> None:
    """Dedicated cores: flavors' CPU policy, hosts' CPU topology, VMs' pins."""
    db.execute("ALTER TABLE flavors ADD COLUMN cpu_policy TEXT NOT NULL DEFAULT 'shared'")
    db.execute("ALTER TABLE flavors ADD COLUMN cpu_threads TEXT NOT NULL DEFAULT 'prefer'")
    db.execute(
        """CREATE TABLE host_cpus (
            host TEXT PRIMARY KEY, nodes TEXT NOT NULL, reserved TEXT NOT NULL,
            source TEXT NOT NULL DEFAULT '', seen_at REAL NOT NULL)"""
    )
    db.execute(
        """CREATE TABLE vm_cpus (
            vm TEXT PRIMARY KEY, policy TEXT NOT NULL, threads TEXT NOT NULL, host TEXT,
            vcpu_pins TEXT NOT NULL, emulator_pins TEXT NOT NULL, node INTEGER,
            memory_mib INTEGER NOT NULL, taken TEXT NOT NULL)"""
    )
    for name, vcpus, memory, disk, max_vcpus, max_memory in DEDICATED_FLAVORS:
        db.execute(
            "INSERT OR IGNORE INTO flavors (name, vcpus, memory_mib, disk_gib, max_vcpus, "
            "max_memory_mib, cpu_policy) VALUES (?, ?, ?, ?, ?, ?, 'dedicated')",
            [name, vcpus, memory, disk, max_vcpus, max_memory],
        )


# a dedicated flavor allowed to spread over NUMA nodes when one node cannot hold it
SPREAD_FLAVOR = ("dedicated-wide", 16, 32768, 160.0, 32, 65536)


def migration_numa(db: Database) -> None:
    """Dedicated VMs that may spread over NUMA nodes (flavors' and VMs' `numa`)."""
    db.execute("ALTER TABLE flavors ADD COLUMN cpu_numa TEXT NOT NULL DEFAULT 'one'")
    db.execute("ALTER TABLE vm_cpus ADD COLUMN numa TEXT NOT NULL DEFAULT 'one'")
    db.execute(
        "INSERT OR IGNORE INTO flavors (name, vcpus, memory_mib, disk_gib, max_vcpus, "
        "max_memory_mib, cpu_policy, cpu_numa) VALUES (?, ?, ?, ?, ?, ?, 'dedicated', 'spread')",
        list(SPREAD_FLAVOR),
    )


def _topology(row: tuple[Any, ...]) -> CpuTopology:
    host, nodes, reserved, source = row
    return CpuTopology(
        host,
        tuple(
            NumaNode(n["id"], tuple(tuple(core) for core in n["cores"]), n["memory_mib"])
            for n in json.loads(nodes)
        ),
        tuple(json.loads(reserved)),
        source,
    )


def _vm_cpus(row: tuple[Any, ...]) -> VmCpus:
    vm, policy, threads, host, pins, emulator, node, memory, taken, numa = row
    return VmCpus(
        vm,
        CpuPolicy(policy),
        ThreadPolicy(threads),
        host,
        tuple(json.loads(pins)),
        tuple(json.loads(emulator)),
        node,
        memory,
        tuple(json.loads(taken)),
        NumaPolicy(numa),
    )


_VM_COLUMNS = "vm, policy, threads, host, vcpu_pins, emulator_pins, node, memory_mib, taken, numa"


class CoreStore(StoreBase):
    """Host CPU topologies and VM pins."""

    def set_cpu_topologies(self, topologies: Iterable[CpuTopology]) -> None:
        rows = [
            (
                t.host,
                to_json(
                    [{"id": n.id, "cores": n.cores, "memory_mib": n.memory_mib} for n in t.nodes]
                ),
                to_json(list(t.reserved)),
                t.source,
                self._now(),
            )
            for t in topologies
        ]
        with self._db.atomic():
            self._db.conn.executemany(
                "INSERT INTO host_cpus (host, nodes, reserved, source, seen_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT(host) DO UPDATE SET nodes = excluded.nodes, "
                "reserved = excluded.reserved, source = excluded.source, "
                "seen_at = excluded.seen_at",
                rows,
            )

    def hosts_with_cpu_topology(self) -> set[str]:
        """The hosts whose CPU topology is known (names only: a sync's cheap look)."""
        return {row[0] for row in self._db.execute("SELECT host FROM host_cpus")}

    def cpu_topologies(self) -> dict[str, CpuTopology]:
        sql = "SELECT host, nodes, reserved, source FROM host_cpus"
        return {row[0]: _topology(row) for row in self._db.execute(sql)}

    def cpu_topology(self, host: str) -> CpuTopology | None:
        sql = "SELECT host, nodes, reserved, source FROM host_cpus WHERE host = ?"
        row = self._db.execute(sql, [host]).fetchone()
        return None if row is None else _topology(row)

    def set_vm_cpus(self, cpus: VmCpus) -> None:
        values = [
            cpus.vm,
            cpus.policy.value,
            cpus.threads.value,
            cpus.host,
            to_json(list(cpus.vcpu_pins)),
            to_json(list(cpus.emulator_pins)),
            cpus.node,
            cpus.memory_mib,
            to_json(list(cpus.taken)),
            cpus.numa.value,
        ]
        with self._db.atomic():
            self._db.execute(
                f"INSERT OR REPLACE INTO vm_cpus ({_VM_COLUMNS}) VALUES ({', '.join('?' * 10)})",
                values,
            )

    def vm_cpus(self, vm: str) -> VmCpus | None:
        row = self._db.execute(f"SELECT {_VM_COLUMNS} FROM vm_cpus WHERE vm = ?", [vm])
        found = row.fetchone()
        return None if found is None else _vm_cpus(found)

    def all_vm_cpus(self) -> dict[str, VmCpus]:
        return {r[0]: _vm_cpus(r) for r in self._db.execute(f"SELECT {_VM_COLUMNS} FROM vm_cpus")}

    def forget_vm_cpus(self, vm: str) -> None:
        with self._db.atomic():
            self._db.execute("DELETE FROM vm_cpus WHERE vm = ?", [vm])
