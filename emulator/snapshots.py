"""VM snapshots, as libvirt's internal qcow2 snapshots behave.

A snapshot records the VM's state (its memory too when it runs), its vCPUs and
memory, and a place in the VM's snapshot tree (its parent, the one that was the
VM's current snapshot when it was taken). The space it holds on the VM's
datastore starts at the saved memory (none for a disk-only one) and grows while
it is the VM's current snapshot: every block the guest writes after it was
taken is kept twice. The guest writes its disk at `DISK_WRITE_SHARE` of the rate
it dirties memory, so a busy VM's old snapshot fills its datastore (counted in
the datastore's `used_gib`). Reverting brings the VM back to the snapshot's state
and makes it current again; deleting one hands its children to its parent, as
libvirt does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .autostart import AutostartOps
from .migration import Migration
from .vm import ACTIVE_STATES, PAUSED, RUNNING, SHUT_OFF, Vm

DISK_WRITE_SHARE = 0.01  # bytes written to disk per byte of memory dirtied
SNAPSHOT_WRITE_BPS = 512 * (1 << 20)  # a memory snapshot is written at this rate
MIB = 1 << 20
GIB = 1 << 30


@dataclass(slots=True)
class Snapshot:
    vm: str
    snap: str  # its name
    parent: str | None
    created_at: float  # the fleet's clock
    description: str
    vm_state: str  # the VM's state when taken
    memory: bool  # holds the VM's memory (taken while it ran or was paused)
    vcpus: int
    memory_mib: int
    size_bytes: float  # what it holds on the VM's datastore
    current: bool = False

    PERSIST = (
        "vm",
        "snap",
        "parent",
        "created_at",
        "description",
        "vm_state",
        "memory",
        "vcpus",
        "memory_mib",
        "size_bytes",
        "current",
    )

    @property
    def name(self) -> str:
        """Its key in the fleet (VM names have no whitespace, so this is unique)."""
        return key(self.vm, self.snap)


def key(vm: str, snap: str) -> str:
    return f"{vm}\n{snap}"


class SnapshotOps(AutostartOps):
    """Create, list, revert and delete snapshots; their space grows with the clock."""

    def __init__(self, seed: int = 0) -> None:
        super().__init__(seed)
        self.snapshots: dict[str, Snapshot] = {}
        self._current_snapshot: dict[str, str] = {}  # VM name -> its current snapshot's key

    # --- reads -------------------------------------------------------------------------

    def snapshots_of(self, name: str) -> list[Snapshot]:
        """The VM's snapshots, oldest first."""
        self.vm(name)
        found = [s for s in self.snapshots.values() if s.vm == name]
        return sorted(found, key=lambda s: (s.created_at, s.snap))

    def find_snapshot(self, name: str, snap: str) -> Snapshot:
        found = self.snapshots.get(key(name, snap))
        if found is None:
            raise self.refuse(f"VM {name} has no snapshot named {snap!r}.")
        return found

    # --- changes ------------------------------------------------------------------------

    def snapshot_write_s(self, name: str, *, disk_only: bool = False) -> float:
        """How long taking a snapshot of `name` now takes: its memory written at
        SNAPSHOT_WRITE_BPS when it runs (a disk-only snapshot is metadata: at once)."""
        v = self.vm(name)
        if disk_only or v.state not in (RUNNING, PAUSED):
            return 0.0
        return v.memory_mib * MIB / SNAPSHOT_WRITE_BPS

    def create_snapshot(
        self, name: str, snap: str, *, description: str = "", disk_only: bool = False
    ) -> Snapshot:
        """Take a snapshot: with memory of a running or paused VM, unless `disk_only`."""
        v = self.vm(name)
        self.check_reachable(v.host)
        self._busy(v)
        if not snap or any(c in snap for c in "\n\r/") or snap != snap.strip():
            raise self.refuse(f"A snapshot name cannot be {snap!r}.")
        if key(name, snap) in self.snapshots:
            raise self.refuse(f"VM {name} already has a snapshot named {snap!r}.")
        memory = v.state in (RUNNING, PAUSED) and not disk_only
        size = float(v.memory_mib * MIB) if memory else 0.0
        ds = self.datastores[v.datastore]
        if size / GIB > ds.free_gib:
            raise self.refuse(f"Datastore {ds.name} has no room for {name}'s memory.")
        s = Snapshot(
            vm=name,
            snap=snap,
            parent=self._current_of(name),
            created_at=self.now,
            description=description,
            vm_state="disk-snapshot" if disk_only and v.state in ACTIVE_STATES else v.state,
            memory=memory,
            vcpus=v.vcpus,
            memory_mib=v.memory_mib,
            size_bytes=size,
        )
        self._add_snapshot(s)
        self._make_current(s)
        self.emit("vm.snapshot", f"VM {name}: snapshot {snap} taken.", v.host, name)
        return s

    def revert_snapshot(self, name: str, snap: str) -> None:
        """Bring the VM back to the snapshot: its vCPUs, memory and state (a memory
        snapshot comes back running or paused; a disk one shut off)."""
        v = self.vm(name)
        self.check_reachable(v.host)
        self._busy(v)
        s = self.find_snapshot(name, snap)
        if v.state in ACTIVE_STATES:
            self._power_down(v, SHUT_OFF, f"reverting to snapshot {snap}")
        v.vcpus, v.memory_mib = s.vcpus, s.memory_mib
        self.touch("vm", name)
        if s.memory:
            free = self.memory_free_mib(v.host)
            if v.memory_mib > free:
                raise self.refuse(
                    f"Host {v.host} has {free} MiB free, not enough to bring {name} back "
                    f"({v.memory_mib} MiB); it was left shut off."
                )
            self._run(v)
            if s.vm_state == PAUSED:
                self.suspend_vm(name)
        self._make_current(s)
        self.emit("vm.snapshot", f"VM {name} reverted to snapshot {snap}.", v.host, name)

    def delete_snapshot(self, name: str, snap: str) -> None:
        """Delete one snapshot; its children take its parent as theirs."""
        v = self.vm(name)
        self.check_reachable(v.host)
        self._busy(v)
        s = self.find_snapshot(name, snap)
        for child in self.snapshots.values():
            if child.vm == name and child.parent == snap:
                child.parent = s.parent
                self.touch("snapshot", child.name)
        self._drop_snapshot(s)
        if s.current:
            parent = self.snapshots.get(key(name, s.parent)) if s.parent else None
            self._current_snapshot.pop(name, None)
            if parent is not None:
                self._make_current(parent)
        self.emit("vm.snapshot", f"VM {name}: snapshot {snap} deleted.", v.host, name)

    # --- what snapshots block (libvirt's words) -----------------------------------------

    def migrate(self, name: str, target: str, **options: Any) -> Migration:
        count = sum(1 for s in self.snapshots.values() if s.vm == name)
        if count and options.get("live", True):
            raise self.refuse(f"cannot migrate domain with {count} snapshots")
        self._refuse_with_snapshots(name, "moved to another host")
        return super().migrate(name, target, **options)

    def move_stopped_vm(self, name: str, host: str) -> Vm:
        self._refuse_with_snapshots(name, "moved to another host")
        return super().move_stopped_vm(name, host)

    def undefine_vm(self, name: str) -> None:
        self._refuse_with_snapshots(name, "undefined")
        super().undefine_vm(name)

    def _refuse_with_snapshots(self, name: str, what: str) -> None:
        count = sum(1 for s in self.snapshots.values() if s.vm == name)
        if count:
            raise self.refuse(
                f"VM {name} has {count} snapshot{'s' if count != 1 else ''}: "
                f"delete them before it is {what}."
            )

    # --- the clock and bookkeeping -----------------------------------------------------

    def advance_snapshots(self, dt: float) -> None:
        """Each running VM's current snapshot keeps what the guest overwrote in `dt`."""
        for name, k in self._current_snapshot.items():
            v = self.vms[name]
            if v.state != RUNNING:
                continue
            s = self.snapshots[k]
            room = v.disk_gib * GIB + (s.memory_mib * MIB if s.memory else 0) - s.size_bytes
            grow = min(v.effective_dirty_rate * DISK_WRITE_SHARE * dt, max(room, 0.0))
            if grow > 0:
                s.size_bytes += grow
                self.datastores[v.datastore].used_gib += grow / GIB
                self.touch("snapshot", k)

    def attach_snapshot(self, s: Snapshot) -> None:
        """Add a loaded snapshot (no checks)."""
        self._add_snapshot(s)
        if s.current:
            self._current_snapshot[s.vm] = s.name

    def _add_snapshot(self, s: Snapshot) -> None:
        self.snapshots[s.name] = s
        self.datastores[self.vms[s.vm].datastore].used_gib += s.size_bytes / GIB
        self.touch("snapshot", s.name)

    def _drop_snapshot(self, s: Snapshot) -> None:
        del self.snapshots[s.name]
        self.datastores[self.vms[s.vm].datastore].used_gib -= s.size_bytes / GIB
        self.forget("snapshot", s.name)

    def _current_of(self, name: str) -> str | None:
        k = self._current_snapshot.get(name)
        return self.snapshots[k].snap if k else None

    def _make_current(self, s: Snapshot) -> None:
        old = self._current_snapshot.get(s.vm)
        if old is not None and old in self.snapshots:
            self.snapshots[old].current = False
            self.touch("snapshot", old)
        s.current = True
        self._current_snapshot[s.vm] = s.name
        self.touch("snapshot", s.name)
