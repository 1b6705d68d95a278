"""What the scheduler remembers: hosts in maintenance, affinity groups, HA priorities."""

from __future__ import annotations

from vdctui.frozen import frozen
from vdctui.store.base import StoreBase

AFFINITY_KINDS = ("same-host", "different-hosts", "different-racks")


@frozen
class AffinityGroup:
    """VMs kept together (same-host) or apart (different-hosts, different-racks)."""

    name: str
    kind: str
    members: tuple[str, ...]


class SchedulingStore(StoreBase):
    """Maintenance flags, affinity groups and restart priorities."""

    # --- maintenance ---
    def set_maintenance(self, host: str, on: bool, *, actor: str = "", reason: str = "") -> None:
        with self._db.atomic():
            if on:
                self._db.execute(
                    "INSERT INTO host_maintenance (host, since, actor, reason) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT(host) DO UPDATE SET reason = excluded.reason",
                    [host, self._now(), actor, reason],
                )
            else:
                self._db.execute("DELETE FROM host_maintenance WHERE host = ?", [host])

    def maintenance_reasons(self) -> dict[str, str]:
        """Each host flagged for maintenance, with where it stands (entering, maintenance,
        interrupted)."""
        return {r[0]: r[1] for r in self._db.execute("SELECT host, reason FROM host_maintenance")}

    def hosts_in_maintenance(self) -> set[str]:
        return {r[0] for r in self._db.execute("SELECT host FROM host_maintenance")}

    def in_maintenance(self, host: str) -> bool:
        row = self._db.execute("SELECT 1 FROM host_maintenance WHERE host = ?", [host])
        return row.fetchone() is not None

    # --- affinity groups ---
    def upsert_affinity_group(self, name: str, kind: str, members: list[str]) -> None:
        """Create or replace a group with exactly these members."""
        if kind not in AFFINITY_KINDS:
            raise ValueError(f"affinity kind {kind!r} is not one of {', '.join(AFFINITY_KINDS)}")
        with self._db.atomic():
            self._db.execute(
                "INSERT INTO affinity_groups (name, kind) VALUES (?, ?) "
                "ON CONFLICT(name) DO UPDATE SET kind = excluded.kind",
                [name, kind],
            )
            self._db.execute("DELETE FROM affinity_members WHERE group_name = ?", [name])
            for vm in dict.fromkeys(members):
                self._db.execute(
                    "INSERT INTO affinity_members (group_name, vm) VALUES (?, ?)", [name, vm]
                )

    def delete_affinity_group(self, name: str) -> bool:
        with self._db.atomic():
            self._db.execute("DELETE FROM affinity_members WHERE group_name = ?", [name])
            cursor = self._db.execute("DELETE FROM affinity_groups WHERE name = ?", [name])
        return cursor.rowcount > 0

    def affinity_groups(self, vm: str | None = None) -> list[AffinityGroup]:
        """Every group (or those `vm` belongs to), with their members."""
        if vm is None:
            names = [
                r[0] for r in self._db.execute("SELECT name FROM affinity_groups ORDER BY name")
            ]
        else:
            names = [
                r[0]
                for r in self._db.execute(
                    "SELECT group_name FROM affinity_members WHERE vm = ? ORDER BY group_name", [vm]
                )
            ]
        groups = []
        for name in names:
            row = self._db.execute(
                "SELECT kind FROM affinity_groups WHERE name = ?", [name]
            ).fetchone()
            members = tuple(
                r[0]
                for r in self._db.execute(
                    "SELECT vm FROM affinity_members WHERE group_name = ? ORDER BY vm", [name]
                )
            )
            groups.append(AffinityGroup(name, row[0], members))
        return groups

    # --- HA restart priority ---
    def set_restart_priority(self, vm: str, priority: int) -> None:
        with self._db.atomic():
            self._db.execute(
                "INSERT INTO vm_restart_priority (vm, priority) VALUES (?, ?) "
                "ON CONFLICT(vm) DO UPDATE SET priority = excluded.priority",
                [vm, priority],
            )

    def restart_priorities(self) -> dict[str, int]:
        return {
            r[0]: int(r[1])
            for r in self._db.execute("SELECT vm, priority FROM vm_restart_priority")
        }
