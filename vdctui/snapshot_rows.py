"""Snapshots as the CLI and the TUI list them: each in its VM's tree (old ones flagged),
and the space they hold per datastore."""

from __future__ import annotations

from dataclasses import dataclass

from vdctui.columns import Column, when
from vdctui.model import Snapshot
from vdctui.ops import snapshots as snaps
from vdctui.units import UNKNOWN, format_bytes, format_duration


@dataclass(frozen=True, slots=True)
class ListedSnapshot:
    """A snapshot as `snapshot list` shows it: its place in the tree and whether it is old."""

    vm: str
    name: str
    depth: int
    parent: str | None
    current: bool
    created: float | None
    age_s: float | None
    old: bool
    vm_state: str
    memory: bool
    size_bytes: int | None
    datastore: str
    description: str


def _size(value: int | None) -> str:
    return UNKNOWN if value is None else format_bytes(value)


def _age(value: float | None) -> str:
    return UNKNOWN if value is None else format_duration(max(value, 0.0))


SNAPSHOT_COLUMNS: list[Column] = [
    ("vm", lambda s: s.vm),
    ("snapshot", lambda s: "  " * s.depth + s.name + (" *" if s.current else "")),
    ("taken", lambda s: when(s.created)),
    ("age", lambda s: _age(s.age_s) + (" OLD" if s.old else "")),
    ("state", lambda s: s.vm_state + (" +memory" if s.memory else "")),
    ("size", lambda s: _size(s.size_bytes)),
    ("datastore", lambda s: s.datastore or UNKNOWN),
    ("description", lambda s: s.description),
]
SPACE_COLUMNS: list[Column] = [
    ("datastore", lambda r: r.datastore),
    ("capacity", lambda r: UNKNOWN if r.capacity_gib is None else f"{r.capacity_gib:.0f} GiB"),
    ("snapshots", lambda r: r.snapshots),
    ("space", lambda r: _size(r.size_bytes)),
    ("old", lambda r: r.old),
    ("oldest", lambda r: _age(r.oldest_age_s)),
]


def listed(found: list[Snapshot], now: float, old_after_s: float) -> list[ListedSnapshot]:
    by_vm: dict[str, list[Snapshot]] = {}
    for s in found:
        by_vm.setdefault(s.vm, []).append(s)
    rows = []
    for vm in sorted(by_vm):
        for row in snaps.tree(by_vm[vm]):
            s = row.snapshot
            rows.append(
                ListedSnapshot(
                    vm=vm,
                    name=s.name,
                    depth=row.depth,
                    parent=s.parent,
                    current=s.current,
                    created=s.created,
                    age_s=None if s.created is None else now - s.created,
                    old=snaps.is_old(s, now, old_after_s),
                    vm_state=s.vm_state,
                    memory=s.memory,
                    size_bytes=s.size_bytes,
                    datastore=s.datastore,
                    description=s.description,
                )
            )
    return rows
