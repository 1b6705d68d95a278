"""Security groups: named allow-rule sets and the VMs they cover."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from vdctui.model import Alert, SecurityGroup, SecurityRule
from vdctui.store.base import StoreBase

if TYPE_CHECKING:  # sqlite-utils loads only when a migration runs
    from sqlite_utils import Database


def migration_secgroups(db: Database) -> None:
    """Security groups, their rules and members."""
    db.execute(
        """CREATE TABLE secgroups (
            name TEXT PRIMARY KEY, description TEXT NOT NULL DEFAULT '', created REAL NOT NULL)"""
    )
    db.execute(
        """CREATE TABLE secgroup_rules (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            secgroup TEXT NOT NULL REFERENCES secgroups(name) ON DELETE CASCADE,
            direction TEXT NOT NULL, protocol TEXT NOT NULL,
            port_min INTEGER, port_max INTEGER, remote_cidr TEXT, remote_group TEXT)"""
    )
    db.execute(
        """CREATE TABLE secgroup_members (
            secgroup TEXT NOT NULL REFERENCES secgroups(name) ON DELETE CASCADE,
            vm TEXT NOT NULL, PRIMARY KEY (secgroup, vm))"""
    )
    db.table("secgroup_members").create_index(["vm"])
    db.execute(
        """CREATE TABLE alerts (
            id INTEGER PRIMARY KEY AUTOINCREMENT, ts REAL NOT NULL, kind TEXT NOT NULL,
            source TEXT NOT NULL, vm TEXT, detail TEXT NOT NULL, state TEXT NOT NULL,
            UNIQUE (kind, source, vm, ts))"""
    )


_RULE = "id, secgroup, direction, protocol, port_min, port_max, remote_cidr, remote_group"


def _rule(row: tuple[Any, ...]) -> SecurityRule:
    return SecurityRule(*row)


class SecurityGroupStore(StoreBase):
    def create_secgroup(self, name: str, description: str = "") -> None:
        with self._db.atomic():
            self._db.execute(
                "INSERT INTO secgroups (name, description, created) VALUES (?, ?, ?)",
                [name, description, self._now()],
            )

    def secgroups(self) -> list[SecurityGroup]:
        rules: dict[str, list[SecurityRule]] = {}
        for row in self._db.execute(f"SELECT {_RULE} FROM secgroup_rules ORDER BY id"):
            rules.setdefault(row[1], []).append(_rule(row))
        members: dict[str, list[str]] = {}
        for group, vm in self._db.execute("SELECT secgroup, vm FROM secgroup_members ORDER BY vm"):
            members.setdefault(group, []).append(vm)
        return [
            SecurityGroup(
                name, description, tuple(rules.get(name, ())), tuple(members.get(name, ()))
            )
            for name, description in self._db.execute(
                "SELECT name, description FROM secgroups ORDER BY name"
            )
        ]

    def secgroup(self, name: str) -> SecurityGroup | None:
        return next((g for g in self.secgroups() if g.name == name), None)

    def add_secgroup_rule(self, rule: SecurityRule) -> int:
        with self._db.atomic():
            cursor = self._db.execute(
                "INSERT INTO secgroup_rules (secgroup, direction, protocol, port_min, port_max, "
                "remote_cidr, remote_group) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    rule.group,
                    rule.direction,
                    rule.protocol,
                    rule.port_min,
                    rule.port_max,
                    rule.remote_cidr,
                    rule.remote_group,
                ],
            )
        return int(cursor.lastrowid or 0)

    def secgroup_rule(self, rule_id: int) -> SecurityRule | None:
        row = self._db.execute(f"SELECT {_RULE} FROM secgroup_rules WHERE id = ?", [rule_id])
        found = row.fetchone()
        return None if found is None else _rule(found)

    def remove_secgroup_rule(self, rule_id: int) -> None:
        with self._db.atomic():
            self._db.execute("DELETE FROM secgroup_rules WHERE id = ?", [rule_id])

    def set_secgroup_member(self, group: str, vm: str, member: bool) -> None:
        with self._db.atomic():
            if member:
                self._db.execute(
                    "INSERT OR IGNORE INTO secgroup_members (secgroup, vm) VALUES (?, ?)",
                    [group, vm],
                )
            else:
                self._db.execute(
                    "DELETE FROM secgroup_members WHERE secgroup = ? AND vm = ?", [group, vm]
                )

    def delete_secgroup(self, name: str) -> None:
        """The group, its rules and memberships, and the rules of other groups naming it."""
        with self._db.atomic():
            self._db.execute("DELETE FROM secgroup_members WHERE secgroup = ?", [name])
            self._db.execute(
                "DELETE FROM secgroup_rules WHERE secgroup = ? OR remote_group = ?", [name, name]
            )
            self._db.execute("DELETE FROM secgroups WHERE name = ?", [name])

    def restore_secgroup(self, group: SecurityGroup, naming_it: list[SecurityRule]) -> None:
        """Put back a deleted group as it was (rule numbers kept), with the rules of
        other groups that named it."""
        with self._db.atomic():
            self._db.execute(
                "INSERT INTO secgroups (name, description, created) VALUES (?, ?, ?)",
                [group.name, group.description, self._now()],
            )
            for rule in (*group.rules, *naming_it):
                self._db.execute(
                    f"INSERT INTO secgroup_rules ({_RULE}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        rule.id,
                        rule.group,
                        rule.direction,
                        rule.protocol,
                        rule.port_min,
                        rule.port_max,
                        rule.remote_cidr,
                        rule.remote_group,
                    ],
                )
            for vm in group.members:
                self._db.execute(
                    "INSERT INTO secgroup_members (secgroup, vm) VALUES (?, ?)", [group.name, vm]
                )

    def secgroups_of(self, vm: str) -> list[str]:
        sql = "SELECT secgroup FROM secgroup_members WHERE vm = ? ORDER BY secgroup"
        return [r[0] for r in self._db.execute(sql, [vm])]

    # --- intrusion alerts ---
    def add_alert(
        self, ts: float, kind: str, source: str, vm: str | None, detail: str
    ) -> Alert | None:
        """Keep a new alert; None when the same one (kind, source, VM, window) is known."""
        with self._db.atomic():
            cursor = self._db.execute(
                "INSERT OR IGNORE INTO alerts (ts, kind, source, vm, detail, state) "
                "VALUES (?, ?, ?, ?, ?, 'open')",
                [ts, kind, source, vm, detail],
            )
        if not cursor.rowcount:
            return None
        return Alert(int(cursor.lastrowid or 0), ts, kind, source, vm, detail, "open")

    def alerts(self, *, state: str | None = None) -> list[Alert]:
        sql = "SELECT id, ts, kind, source, vm, detail, state FROM alerts"
        rows = self._db.execute(
            sql + (" WHERE state = ?" if state else "") + " ORDER BY id", [state] if state else []
        )
        return [Alert(*row) for row in rows]

    def set_alert_state(self, alert_id: int, state: str) -> None:
        with self._db.atomic():
            self._db.execute("UPDATE alerts SET state = ? WHERE id = ?", [state, alert_id])
