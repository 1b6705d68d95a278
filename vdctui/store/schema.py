"""The store's schema: an ordered list of forward migrations.

Migration N brings a file from version N-1 to N. To change the schema, append a
function to MIGRATIONS — never edit one that has shipped. Each migration runs
inside the same transaction as the row that records it in `schema_version`, so
a crash leaves the file at the old version or the new one, never between.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from vdctui.store.connection import SharedDatabase
from vdctui.store.errors import SchemaTooNew, StoreError

if TYPE_CHECKING:
    from sqlite_utils import Database  # imported only when a migration runs

Migration = Callable[["Database"], None]

# (vcpus, memory MiB, disk GiB, max vcpus, max memory MiB): room to resize live 2-4x
SEED_FLAVORS: tuple[tuple[str, int, int, float, int, int], ...] = (
    ("tiny", 1, 512, 10.0, 2, 2048),
    ("small", 1, 2048, 20.0, 4, 8192),
    ("medium", 2, 4096, 40.0, 8, 16384),
    ("large", 4, 8192, 80.0, 16, 32768),
    ("xlarge", 8, 16384, 160.0, 32, 65536),
)

GENESIS_HASH = "0" * 64


def _inventory(db: Database) -> None:
    db.table("sites").create({"name": str}, pk="name", not_null={"name"})
    db.table("rooms").create({"name": str, "site": str}, pk="name", not_null={"site"})
    db.table("racks").create(
        {
            "name": str,
            "room": str,
            "site": str,
            "power_budget_kw": float,
            "uplink_gbps": float,
        },
        pk="name",
        not_null={"room", "site", "power_budget_kw", "uplink_gbps"},
    )
    db.table("datastores").create(
        {"name": str, "kind": str, "capacity_gib": float, "room": str, "host": str},
        pk="name",
        not_null={"kind", "capacity_gib"},
    )
    db.table("networks").create({"name": str, "vlan": int}, pk="name")
    db.table("hosts").create(
        {
            "name": str,
            "state": str,
            "rack": str,
            "room": str,
            "site": str,
            "model": str,
            "cpus": int,
            "cores": int,
            "mhz": int,
            "memory_mib": int,
            "nic_gbps": float,
            "reserved_cpus": int,
            "reserved_memory_mib": int,
            "datastores": str,  # JSON list
            "cpu_util": float,
            "memory_used_mib": int,
            "power_watts": float,
            "vm_count": int,
            "reason": str,
            "seen_at": float,
        },
        pk="name",
        not_null={"state", "rack", "room", "site", "seen_at"},
    )
    db.table("hosts").create_index(["rack"])
    db.table("vms").create(
        {
            "name": str,
            "state": str,
            "host": str,
            "vcpus": int,
            "memory_mib": int,
            "max_vcpus": int,
            "max_memory_mib": int,
            "disk_gib": float,
            "datastore": str,
            "network": str,
            "pool": str,
            "uuid": str,
            "cpu_util": float,
            "memory_dirty_rate": float,
            "uptime_s": float,
            "seen_at": float,
        },
        pk="name",
        not_null={"state", "vcpus", "memory_mib", "pool", "seen_at"},
    )
    # (column, name): a filter plus the default order in one index walk
    for column in ("host", "state", "pool"):
        db.table("vms").create_index([column, "name"])


def _pools(db: Database) -> None:
    db.table("pools").create(
        {
            "name": str,
            "cpu_reservation_mhz": int,
            "cpu_limit_mhz": int,
            "cpu_shares": int,
            "memory_reservation_mib": int,
            "memory_limit_mib": int,
            "memory_shares": int,
            "cpu_overcommit": float,
            "memory_overcommit": float,
            "description": str,
        },
        pk="name",
    )
    db.table("flavors").create(
        {
            "name": str,
            "vcpus": int,
            "memory_mib": int,
            "disk_gib": float,
            "max_vcpus": int,
            "max_memory_mib": int,
        },
        pk="name",
        not_null={"vcpus", "memory_mib", "disk_gib", "max_vcpus", "max_memory_mib"},
    )
    db.table("flavors").insert_all(
        {
            "name": name,
            "vcpus": vcpus,
            "memory_mib": memory,
            "disk_gib": disk,
            "max_vcpus": max_vcpus,
            "max_memory_mib": max_memory,
        }
        for name, vcpus, memory, disk, max_vcpus, max_memory in SEED_FLAVORS
    )


def _history(db: Database) -> None:
    db.execute(
        """CREATE TABLE tasks (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            kind TEXT NOT NULL, target TEXT NOT NULL, state TEXT NOT NULL,
            progress REAL NOT NULL DEFAULT 0, actor TEXT NOT NULL,
            created REAL NOT NULL, started REAL, ended REAL,
            error TEXT NOT NULL DEFAULT '', detail TEXT NOT NULL DEFAULT '{}')"""
    )
    db.table("tasks").create_index(["state"])
    db.execute(
        """CREATE TABLE migrations (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            vm TEXT NOT NULL, source TEXT NOT NULL, target TEXT NOT NULL,
            kind TEXT NOT NULL, started REAL NOT NULL, ended REAL,
            data_bytes INTEGER NOT NULL DEFAULT 0, rounds INTEGER NOT NULL DEFAULT 0,
            downtime_ms INTEGER NOT NULL DEFAULT 0, outcome TEXT,
            reason TEXT NOT NULL DEFAULT '', actor TEXT NOT NULL, task_id INTEGER)"""
    )
    for column in ("vm", "source", "target"):
        db.table("migrations").create_index([column])
    db.execute(
        """CREATE TABLE events (
            id INTEGER PRIMARY KEY AUTOINCREMENT, ts REAL NOT NULL, kind TEXT NOT NULL,
            host TEXT, vm TEXT, message TEXT NOT NULL DEFAULT '')"""
    )
    db.table("events").create_index(["ts"])
    db.table("events").create_index(["host", "ts"])
    db.table("events").create_index(["vm", "ts"])


def _audit(db: Database) -> None:
    db.execute(
        """CREATE TABLE audit (
            id INTEGER PRIMARY KEY, ts REAL NOT NULL, actor TEXT NOT NULL,
            role TEXT NOT NULL, action TEXT NOT NULL, target TEXT NOT NULL,
            params TEXT NOT NULL, result TEXT NOT NULL, error TEXT NOT NULL,
            prev_hash TEXT NOT NULL, hash TEXT NOT NULL)"""
    )
    for column in ("ts", "actor", "target", "action"):
        db.table("audit").create_index([column])
    # The anchor that makes a deleted tail visible: updated with every append.
    db.execute(
        """CREATE TABLE audit_head (
            one INTEGER PRIMARY KEY CHECK (one = 1),
            last_id INTEGER NOT NULL, last_hash TEXT NOT NULL)"""
    )
    db.execute("INSERT INTO audit_head (one, last_id, last_hash) VALUES (1, 0, ?)", [GENESIS_HASH])


def migration_1(db: Database) -> None:
    """Create everything: inventory, pools and flavors, tasks, history, audit."""
    _inventory(db)
    _pools(db)
    _history(db)
    _audit(db)


def migration_2(db: Database) -> None:
    """Scheduling: host maintenance flags, affinity groups, HA restart priorities."""
    db.execute(
        """CREATE TABLE host_maintenance (
            host TEXT PRIMARY KEY, since REAL NOT NULL, actor TEXT NOT NULL,
            reason TEXT NOT NULL DEFAULT '')"""
    )
    db.execute(
        """CREATE TABLE affinity_groups (
            name TEXT PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('same-host', 'different-hosts',
                                                'different-racks')))"""
    )
    db.execute(
        """CREATE TABLE affinity_members (
            group_name TEXT NOT NULL REFERENCES affinity_groups(name) ON DELETE CASCADE,
            vm TEXT NOT NULL, PRIMARY KEY (group_name, vm))"""
    )
    db.table("affinity_members").create_index(["vm"])
    db.execute(
        """CREATE TABLE vm_restart_priority (
            vm TEXT PRIMARY KEY, priority INTEGER NOT NULL)"""
    )


def migration_3(db: Database) -> None:
    """SSH host keys the operator trusted (`vdctui host trust NAME`)."""
    db.execute(
        """CREATE TABLE trusted_host_keys (
            host TEXT NOT NULL, key TEXT NOT NULL, fingerprint TEXT NOT NULL,
            address TEXT NOT NULL, trusted_at REAL NOT NULL, actor TEXT NOT NULL,
            PRIMARY KEY (host, key))"""
    )


def _file_owner(db: Database) -> str:
    """The OS user who owns the store's file (the process's user for a new or in-memory
    store): the first admin."""
    uid = os.getuid()
    for _seq, name, file in db.execute("PRAGMA database_list").fetchall():
        if name == "main" and file:
            with contextlib.suppress(OSError):
                uid = os.stat(file).st_uid
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid-{uid}"


def migration_4(db: Database) -> None:
    """Operators' roles; the OS user who owns the file is the first admin."""
    db.execute(
        """CREATE TABLE operators (
            name TEXT PRIMARY KEY,
            role TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
            set_by TEXT NOT NULL, set_at REAL NOT NULL)"""
    )
    owner = _file_owner(db)
    db.execute(
        "INSERT INTO operators (name, role, set_by, set_at) VALUES (?, 'admin', ?, ?)",
        [owner, owner, time.time()],
    )


def migration_5(db: Database) -> None:
    """What real hosts tell of a VM: state reason, memory used, NICs, disks, persistence."""
    for column, kind in (
        ("state_reason", "TEXT NOT NULL DEFAULT ''"),
        ("memory_used_mib", "INTEGER"),
        ("nics", "TEXT NOT NULL DEFAULT '[]'"),
        ("disks", "TEXT NOT NULL DEFAULT '[]'"),
        ("persistent", "INTEGER"),
        ("autostart", "INTEGER"),
    ):
        db.execute(f"ALTER TABLE vms ADD COLUMN {column} {kind}")


def migration_6(db: Database) -> None:
    """VMs the console has seen but could not find at its last sync, while some host did
    not answer: kept (never dropped), with when they were last seen."""
    db.execute(
        """CREATE TABLE vms_unaccounted (
            vm TEXT PRIMARY KEY, seen_at REAL NOT NULL, since REAL NOT NULL,
            reason TEXT NOT NULL DEFAULT '')"""
    )


def migration_7(db: Database) -> None:
    """Audit sealing: each record's epoch and seal, the seals, their live key and tags."""
    db.execute("ALTER TABLE audit ADD COLUMN seal_epoch INTEGER")
    db.execute("ALTER TABLE audit ADD COLUMN seal TEXT")
    # Every seal the log has had; replaced_at is the first record of the one after it.
    db.execute(
        """CREATE TABLE audit_seals (
            seal_id TEXT PRIMARY KEY, started REAL NOT NULL, epoch_s REAL NOT NULL,
            first_id INTEGER NOT NULL, replaced_at INTEGER)"""
    )
    # The active seal on this machine: its current epoch and key (overwritten as it evolves).
    db.execute(
        """CREATE TABLE audit_seal_key (
            one INTEGER PRIMARY KEY CHECK (one = 1), seal_id TEXT NOT NULL,
            started REAL NOT NULL, epoch_s REAL NOT NULL, epoch INTEGER NOT NULL,
            key BLOB NOT NULL, count INTEGER NOT NULL)"""
    )
    # One closing tag per ended epoch (and epoch -1: where the log stood at the start).
    db.execute(
        """CREATE TABLE audit_seal_tags (
            seal_id TEXT NOT NULL, epoch INTEGER NOT NULL, next_epoch INTEGER NOT NULL,
            last_id INTEGER NOT NULL, last_hash TEXT NOT NULL, count INTEGER NOT NULL,
            mac TEXT NOT NULL, PRIMARY KEY (seal_id, epoch))"""
    )
    # Records the system log could not take (it was absent or full), for `audit verify`.
    db.execute(
        """CREATE TABLE audit_syslog (
            one INTEGER PRIMARY KEY CHECK (one = 1), dropped INTEGER NOT NULL,
            last_dropped_id INTEGER, reason TEXT NOT NULL DEFAULT '')"""
    )


def migration_8(db: Database) -> None:
    """Tasks belong to a process: its host, pid, start time, store session, heartbeat
    (see vdctui.store.owners)."""
    for column, kind in (
        ("owner_host", "TEXT"),
        ("owner_pid", "INTEGER"),
        ("owner_started", "TEXT"),
        ("owner_session", "TEXT"),
        ("heartbeat", "REAL"),
    ):
        db.execute(f"ALTER TABLE tasks ADD COLUMN {column} {kind}")


def migration_9(db: Database) -> None:
    """What a task changes besides its target (an evacuation's host and VMs), claimed in
    the transaction that records it; changes asked of the process that holds the
    embedded fleet by the others (vdctui.fleet_sharing)."""
    db.execute("CREATE TABLE task_claims (task_id INTEGER NOT NULL, name TEXT NOT NULL)")
    db.table("task_claims").create_index(["name"])
    db.table("tasks").create_index(["target"])
    db.execute(
        """CREATE TABLE fleet_requests (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            action TEXT NOT NULL, target TEXT NOT NULL, params TEXT NOT NULL,
            actor TEXT NOT NULL, role TEXT NOT NULL, asked REAL NOT NULL,
            asker_host TEXT, asker_pid INTEGER, asker_started TEXT,
            state TEXT NOT NULL, taker TEXT, taker_host TEXT, taker_pid INTEGER,
            taker_started TEXT, answer TEXT NOT NULL DEFAULT '{}',
            error TEXT NOT NULL DEFAULT '', task_id INTEGER, ended REAL)"""
    )
    db.table("fleet_requests").create_index(["state"])


def migration_10(db: Database) -> None:
    """Services behind the load balancer (the ADC) and their members (issue 15)."""
    db.execute(
        """CREATE TABLE services (
            name TEXT PRIMARY KEY, vip TEXT NOT NULL, port INTEGER NOT NULL,
            method TEXT NOT NULL, health_check TEXT NOT NULL)"""
    )
    db.execute(
        """CREATE TABLE service_members (
            service TEXT NOT NULL REFERENCES services(name) ON DELETE CASCADE,
            vm TEXT NOT NULL, port INTEGER NOT NULL, weight INTEGER NOT NULL,
            PRIMARY KEY (service, vm, port))"""
    )


def migration_11(db: Database) -> None:
    """A host's power state and health as its BMC reports them (NULL: no BMC says)."""
    db.execute("ALTER TABLE hosts ADD COLUMN power_state TEXT")
    db.execute("ALTER TABLE hosts ADD COLUMN health TEXT")


def migration_12(db: Database) -> None:
    """Dedicated cores: flavors' CPU policy, hosts' CPU topology, VMs' pins."""
    from vdctui.store.cores import migration_cores

    migration_cores(db)


def migration_13(db: Database) -> None:
    """Security groups, their rules and members; intrusion alerts."""
    from vdctui.store.secgroups import migration_secgroups

    migration_secgroups(db)


def migration_14(db: Database) -> None:
    """Why a host is powered off: the balancer, an operator or a fence (issue 12)."""
    from vdctui.store.power_offs import migration_power_offs

    migration_power_offs(db)


def migration_15(db: Database) -> None:
    """Dedicated VMs that may spread over NUMA nodes."""
    from vdctui.store.cores import migration_numa

    migration_numa(db)


def migration_16(db: Database) -> None:
    """When the fleet's CPU, memory and power figures were last read (a whole sync)."""
    from vdctui.store.figures import migration_figures

    migration_figures(db)


MIGRATIONS: list[Migration] = [
    migration_1,
    migration_2,
    migration_3,
    migration_4,
    migration_5,
    migration_6,
    migration_7,
    migration_8,
    migration_9,
    migration_10,
    migration_11,
    migration_12,
    migration_13,
    migration_14,
    migration_15,
    migration_16,
]

# The tables a file at the current version holds, checked when a store opens (a table
# dropped by hand is named then). A test checks it against what MIGRATIONS create: a
# migration that adds or drops a table updates it.
TABLES = frozenset(
    {
        "affinity_groups", "affinity_members", "alerts", "audit", "audit_head",
        "audit_seal_key", "audit_seal_tags", "audit_seals", "audit_syslog", "datastores",
        "events", "figures_read", "flavors", "fleet_requests", "host_cpus", "host_maintenance",
        "host_power_offs", "hosts", "migrations", "networks", "operators", "pools", "racks",
        "rooms", "schema_version",
        "secgroup_members", "secgroup_rules", "secgroups", "service_members", "services",
        "sites", "task_claims", "tasks", "trusted_host_keys", "vm_cpus",
        "vm_restart_priority", "vms", "vms_unaccounted",
    }
)  # fmt: skip


def current_version(db: SharedDatabase | Database) -> int:
    """The version a file is at (0 for an empty file)."""
    if "schema_version" not in db.table_names():
        return 0
    row = db.execute("SELECT MAX(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


def migrate(
    db: SharedDatabase | Database,
    path: str,
    migrations: list[Migration] | None = None,
    *,
    writable: bool = True,
) -> int:
    """Bring the file up to date, one transaction per migration; return the version.

    An up-to-date file is left alone; a file from a newer vdctui is refused. Safe
    when many processes open a new file at once: each step takes the write lock
    (BEGIN IMMEDIATE) and reads the version again under it, so one process creates
    and the others find it done.
    """
    steps = MIGRATIONS if migrations is None else migrations
    version = current_version(db)
    if version > len(steps):
        raise SchemaTooNew(path, version, len(steps))
    if version == len(steps):
        return version
    if not writable:
        raise StoreError(
            f"{path} is at schema version {version} and this vdctui needs {len(steps)}; "
            "you cannot write it, so someone who can must open it once with this vdctui"
        )
    while version < len(steps):
        with db.atomic():  # BEGIN IMMEDIATE: the version read below cannot go stale
            version = current_version(db)
            if version >= len(steps):
                break
            if version == 0:
                _refuse_foreign(db, path)
            number = version + 1
            if number == 1:
                db.execute(
                    """CREATE TABLE IF NOT EXISTS schema_version (
                        version INTEGER PRIMARY KEY, applied REAL NOT NULL,
                        description TEXT NOT NULL)"""
                )
            step = steps[number - 1]
            step(db.utilities() if isinstance(db, SharedDatabase) else db)
            description = (step.__doc__ or step.__name__).strip().splitlines()[0]
            db.execute(
                "INSERT INTO schema_version (version, applied, description) VALUES (?, ?, ?)",
                [number, time.time(), description],
            )
        version = number
    return current_version(db)


def _refuse_foreign(db: SharedDatabase | Database, path: str) -> None:
    """Refuse an SQLite file that has tables but is not a vdctui store."""
    if "schema_version" in db.table_names():
        return
    others = [t for t in db.table_names() if not t.startswith("sqlite_")]
    if others:
        raise StoreError(
            f"{path} is an SQLite file but not a vdctui store "
            f"(it has tables {', '.join(sorted(others)[:5])})"
        )
