"""Operators' roles in this data center (schema migration 4), set by an admin.

The OS user who created the store is its first admin; a user not listed is a
viewer. Rows here are what `Identity` reads: the environment cannot raise them.
"""

from __future__ import annotations

from vdctui.model import Operator, Role
from vdctui.store.base import StoreBase


class OperatorStore(StoreBase):
    """Who may do what: one row per OS user an admin gave a role."""

    def operators(self) -> list[Operator]:
        rows = self._db.execute(
            "SELECT name, role, set_by, set_at FROM operators ORDER BY name"
        ).fetchall()
        return [Operator(name, Role(role), set_by, set_at) for name, role, set_by, set_at in rows]

    def operator_role(self, name: str) -> Role | None:
        """The role `name` was given, or None when nobody gave them one."""
        row = self._db.execute("SELECT role FROM operators WHERE name = ?", [name]).fetchone()
        return None if row is None else Role(row[0])

    def set_operator_role(self, name: str, role: Role, *, actor: str) -> None:
        """Give `name` a role; refuses (ValueError) to leave the data center without an admin."""
        with self._db.atomic():
            self._db.execute(
                "INSERT INTO operators (name, role, set_by, set_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(name) DO UPDATE SET role = excluded.role, "
                "set_by = excluded.set_by, set_at = excluded.set_at",
                [name, role.value, actor, self._now()],
            )
            admins = self._db.execute(
                "SELECT COUNT(*) FROM operators WHERE role = 'admin'"
            ).fetchone()[0]
            if not admins:
                raise ValueError(f"{name} is the last admin; make someone else admin first")
