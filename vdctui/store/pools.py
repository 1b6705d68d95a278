"""Resource pools, their usage, and VM flavors."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from vdctui.model import Flavor, Pool, PoolUsage, VmState
from vdctui.store.base import StoreBase

POOL_COLUMNS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(Pool))
FLAVOR_COLUMNS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(Flavor))

_POOL_SELECT = f"SELECT {', '.join(POOL_COLUMNS)} FROM pools"
_FLAVOR_SELECT = f"SELECT {', '.join(FLAVOR_COLUMNS)} FROM flavors"


def _pool(row: Sequence[Any]) -> Pool:
    return Pool(*row)


def _upsert(table: str, columns: Sequence[str]) -> str:
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c != "name")
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) "
        f"VALUES ({', '.join('?' for _ in columns)}) "
        f"ON CONFLICT(name) DO UPDATE SET {updates}"
    )


class PoolStore(StoreBase):
    """Resource pools and flavors."""

    def pools(self) -> list[Pool]:
        return [_pool(r) for r in self._db.execute(f"{_POOL_SELECT} ORDER BY name")]

    def pool(self, name: str) -> Pool | None:
        row = self._db.execute(f"{_POOL_SELECT} WHERE name = ?", [name]).fetchone()
        return None if row is None else _pool(row)

    def upsert_pool(self, pool: Pool) -> None:
        with self._db.atomic():
            self._db.execute(
                _upsert("pools", POOL_COLUMNS), [getattr(pool, c) for c in POOL_COLUMNS]
            )

    def delete_pool(self, name: str) -> bool:
        """Delete a pool; return False if there was none. Its VMs keep their pool name."""
        with self._db.atomic():
            cursor = self._db.execute("DELETE FROM pools WHERE name = ?", [name])
        return cursor.rowcount > 0

    def pool_usage(self) -> list[PoolUsage]:
        """Every defined pool with what its VMs (any state) hold, by pool name.

        `running` counts VMs in the running state; vcpus and memory sum all of the
        pool's VMs, running or not (what they would take when started).
        """
        columns = ", ".join(f"p.{c}" for c in POOL_COLUMNS)
        sql = (
            f"SELECT {columns}, COUNT(v.name), "
            "COALESCE(SUM(v.state = ?), 0), COALESCE(SUM(v.vcpus), 0), "
            "COALESCE(SUM(v.memory_mib), 0) "
            "FROM pools p LEFT JOIN vms v ON v.pool = p.name "
            "GROUP BY p.name ORDER BY p.name"
        )
        width = len(POOL_COLUMNS)
        return [
            PoolUsage(
                pool=_pool(row[:width]),
                vm_count=int(row[width]),
                running=int(row[width + 1]),
                vcpus=int(row[width + 2]),
                memory_mib=int(row[width + 3]),
            )
            for row in self._db.execute(sql, [VmState.RUNNING.value])
        ]

    def flavors(self) -> list[Flavor]:
        """Every flavor, smallest first."""
        sql = f"{_FLAVOR_SELECT} ORDER BY vcpus, memory_mib, disk_gib, name"
        return [Flavor(*r) for r in self._db.execute(sql)]

    def flavor(self, name: str) -> Flavor | None:
        row = self._db.execute(f"{_FLAVOR_SELECT} WHERE name = ?", [name]).fetchone()
        return None if row is None else Flavor(*row)

    def upsert_flavor(self, flavor: Flavor) -> None:
        with self._db.atomic():
            self._db.execute(
                _upsert("flavors", FLAVOR_COLUMNS),
                [getattr(flavor, c) for c in FLAVOR_COLUMNS],
            )

    def delete_flavor(self, name: str) -> bool:
        """Delete a flavor; return False if there was none."""
        with self._db.atomic():
            cursor = self._db.execute("DELETE FROM flavors WHERE name = ?", [name])
        return cursor.rowcount > 0
