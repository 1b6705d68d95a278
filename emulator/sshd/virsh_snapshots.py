"""An emulated host's `virsh snapshot-*`, in libvirt 9.x's output formats (a mixin of `Virsh`)."""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..fleet import Fleet
from ..snapshots import Snapshot
from ..vm import SHUT_OFF, Vm

if TYPE_CHECKING:
    from .virsh import Output

VALUED = {
    "snapshot-create-as": {"domain", "name", "description"},
    "snapshot-list": {"domain"},
    "snapshot-dumpxml": {"domain", "snapshotname"},
    "snapshot-current": {"domain"},
    "snapshot-revert": {"domain", "snapshotname"},
    "snapshot-delete": {"domain", "snapshotname"},
}
ORDER = {
    "snapshot-create-as": ["domain", "name", "description"],
    "snapshot-list": ["domain"],
    "snapshot-dumpxml": ["domain", "snapshotname"],
    "snapshot-current": ["domain"],
    "snapshot-revert": ["domain", "snapshotname"],
    "snapshot-delete": ["domain", "snapshotname"],
}
Opts = dict[str, str]


def snapshot_xml(s: Snapshot, epoch: float) -> str:
    """`snapshot-dumpxml`: the parts the console reads (the domain's own XML left out)."""
    root = ET.Element("domainsnapshot")
    ET.SubElement(root, "name").text = s.snap
    if s.description:
        ET.SubElement(root, "description").text = s.description
    state = "shutoff" if s.vm_state == SHUT_OFF else s.vm_state
    ET.SubElement(root, "state").text = state
    if s.parent:
        ET.SubElement(ET.SubElement(root, "parent"), "name").text = s.parent
    ET.SubElement(root, "creationTime").text = str(int(epoch + s.created_at))
    ET.SubElement(root, "memory", {"snapshot": "internal" if s.memory else "no"})
    disks = ET.SubElement(root, "disks")
    ET.SubElement(disks, "disk", {"name": "vda", "snapshot": "internal"})
    return ET.tostring(root, encoding="unicode") + "\n"


class SnapshotCommands:
    fleet: Fleet
    host: str

    def _domain(self, opts: Opts) -> Vm:
        raise NotImplementedError  # Virsh's

    def _change(self, verb: str, name: str, call: Callable[[], Any]) -> None:
        raise NotImplementedError  # Virsh's

    @property
    def epoch(self) -> float:
        """The wall clock at the fleet's time 0 (the fleet keeps up with the wall clock)."""
        return time.time() - self.fleet.now

    def _snap(self, opts: Opts, v: Vm) -> Snapshot:
        from .virsh import VirshError

        name = opts.get("snapshotname")
        if name is None:
            raise VirshError("command requires <snapshotname> option")
        found = self.fleet.snapshots.get(f"{v.name}\n{name}")
        if found is None:
            raise VirshError(
                f"Domain snapshot not found: no domain snapshot with matching name '{name}'"
            )
        return found

    def cmd_snapshot_create_as(
        self, opts: Opts, flags: set[str], rest: list[str], stdin: str, out: Output
    ) -> None:
        v = self._domain(opts)
        name = opts.get("name") or f"{int(self.epoch + self.fleet.now)}"
        self._change(
            "create snapshot of",
            v.name,
            lambda: self.fleet.create_snapshot(
                v.name,
                name,
                description=opts.get("description", ""),
                disk_only="disk-only" in flags,
            ),
        )

    def cmd_snapshot_list(
        self, opts: Opts, flags: set[str], rest: list[str], stdin: str, out: Output
    ) -> None:
        v = self._domain(opts)
        snaps = sorted(self.fleet.snapshots_of(v.name), key=lambda s: s.snap)
        if "name" in flags:
            out.out.extend(f"{s.snap}\n" for s in snaps)
            return
        for s in snaps:
            state = "shutoff" if s.vm_state == SHUT_OFF else s.vm_state
            out.out.append(
                f" {s.snap}   {int(self.epoch + s.created_at)}   {state}   {s.parent or ''}\n"
            )

    def cmd_snapshot_dumpxml(
        self, opts: Opts, flags: set[str], rest: list[str], stdin: str, out: Output
    ) -> None:
        v = self._domain(opts)
        out.out.append(snapshot_xml(self._snap(opts, v), self.epoch))

    def cmd_snapshot_current(
        self, opts: Opts, flags: set[str], rest: list[str], stdin: str, out: Output
    ) -> None:
        from .virsh import VirshError

        v = self._domain(opts)
        current = [s for s in self.fleet.snapshots_of(v.name) if s.current]
        if not current:
            raise VirshError("the domain does not have a current snapshot")
        out.out.append(current[0].snap if "name" in flags else snapshot_xml(current[0], self.epoch))

    def cmd_snapshot_revert(
        self, opts: Opts, flags: set[str], rest: list[str], stdin: str, out: Output
    ) -> None:
        v = self._domain(opts)
        s = self._snap(opts, v)
        self._change("revert", v.name, lambda: self.fleet.revert_snapshot(v.name, s.snap))

    def cmd_snapshot_delete(
        self, opts: Opts, flags: set[str], rest: list[str], stdin: str, out: Output
    ) -> None:
        v = self._domain(opts)
        s = self._snap(opts, v)
        self._change(
            "delete snapshot of", v.name, lambda: self.fleet.delete_snapshot(v.name, s.snap)
        )
