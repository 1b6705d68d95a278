"""More of an emulated host's `virsh`: host memory and VM interfaces, in libvirt 9.x formats.

A mixin of `Virsh` (kept apart so that each module stays small).
"""

from __future__ import annotations

import hashlib
import weakref
from typing import TYPE_CHECKING

from ..fleet import Fleet
from ..vm import SHUT_OFF, Vm

if TYPE_CHECKING:
    from .virsh import Output

# A shut-off VM defined on a second host (the first step of a cold move: define on the
# target, then undefine on the source). The fleet holds one VM per name, so the second
# definition waits here until the source lets go: VM name -> the host that also has it.
_STAGED: weakref.WeakKeyDictionary[Fleet, dict[str, str]] = weakref.WeakKeyDictionary()
PAGE_CACHE_SHARE = 0.02  # of a host's memory, in `cached`, for something to show


def mac_of(vm: Vm, index: int = 0) -> str:
    """A stable locally administered MAC in QEMU's 52:54:00 range, from the VM's UUID."""
    digest = hashlib.sha256(f"{vm.uuid}/{index}".encode()).digest()
    return "52:54:00:" + ":".join(f"{b:02x}" for b in digest[:3])


def interfaces(vm: Vm, ids: dict[str, int]) -> list[tuple[str, str, str, str, str]]:
    """(interface, type, source, model, mac): the host-side device exists while it runs."""
    if not vm.network:
        return []
    device = "-" if vm.state == SHUT_OFF else f"vnet{ids.get(vm.name, 0)}"
    return [(device, "network", vm.network, "virtio", mac_of(vm))]


class HostCommands:
    fleet: Fleet
    host: str

    def _domain(self, opts: dict[str, str]) -> Vm:
        raise NotImplementedError  # Virsh's

    def _ids(self) -> dict[str, int]:
        raise NotImplementedError  # Virsh's

    def cmd_nodememstats(
        self, opts: dict[str, str], flags: set[str], rest: list[str], stdin: str, out: Output
    ) -> None:
        host = self.fleet.hosts[self.host]
        total = host.memory_mib * 1024
        used = self.fleet.memory_used_mib(self.host) * 1024
        cached = int(total * PAGE_CACHE_SHARE)
        rows = [("total", total), ("free", max(total - used - cached, 0)), ("buffers", 0)]
        rows.append(("cached", cached))
        out.out.extend(f"{k:<7}: {v:>20} KiB\n" for k, v in rows)

    def staged(self) -> dict[str, str]:
        found = _STAGED.get(self.fleet)
        if found is None:
            found = _STAGED[self.fleet] = {}
        return found

    def stage_define(self, name: str) -> bool:
        """`define` here of a shut-off VM another host has: the first half of a cold move."""
        vm = self.fleet.vms.get(name)
        if vm is None or vm.host == self.host or vm.state != SHUT_OFF:
            return False
        self.staged()[name] = self.host
        return True

    def undefine_staged(self, vm: Vm) -> bool:
        """`undefine` of a VM defined on two hosts: the other one keeps it."""
        elsewhere = self.staged().get(vm.name)
        if elsewhere is None:
            return False
        self.fleet.move_stopped_vm(vm.name, elsewhere)
        self.staged().pop(vm.name, None)
        return True

    def cmd_domiflist(
        self, opts: dict[str, str], flags: set[str], rest: list[str], stdin: str, out: Output
    ) -> None:
        vm = self._domain(opts)
        for row in interfaces(vm, self._ids()):
            out.out.append(" " + "   ".join(row) + "\n")
