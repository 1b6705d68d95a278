"""VMs defined on two hosts at once, found in the hosts' own lists (a mixin of SshDriver),
and the removal of a shut-off stale copy on the one host named (`virsh undefine` there)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from vdctui.drivers.base import HostUnreachable, InvalidOperation
from vdctui.drivers.ssh.commands import virsh
from vdctui.model import DuplicateDefinition, VmState

if TYPE_CHECKING:
    from vdctui.drivers.ssh.inventory import InventoryHost
    from vdctui.drivers.ssh.pool import Completed
    from vdctui.drivers.ssh.snapshot import HostSnapshot
    from vdctui.model import Vm

MIGRATING = ("starting up", "migrating", "post-copy")


def duplicates_in(snapshots: list[HostSnapshot]) -> list[DuplicateDefinition]:
    """Names more than one answering host defines; a copy migrating in is not one. Pure."""
    seen: dict[str, list[tuple[str, Vm]]] = {}
    for snap in snapshots:
        if snap.answered:
            for name, vm in snap.vms.items():
                seen.setdefault(name, []).append((snap.host.name, vm))
    found = []
    for name in sorted(seen):
        copies = seen[name]
        moving = any(v.state is VmState.PAUSED and v.state_reason in MIGRATING for _, v in copies)
        if len(copies) > 1 and not moving:
            found.append(DuplicateDefinition(name, tuple((h, v.state) for h, v in copies)))
    return found


class SshDuplicates:
    async def _poll_all(self) -> list[HostSnapshot]:
        raise NotImplementedError  # SshDriver's

    async def _poll(self, inv: InventoryHost) -> HostSnapshot:
        raise NotImplementedError  # SshDriver's

    def _inv(self, host: str) -> InventoryHost:
        raise NotImplementedError  # SshDriver's

    async def _run_change(
        self, inv: InventoryHost, command: str, what: str, vm: str | None = None
    ) -> Completed:
        raise NotImplementedError  # SshDriver's

    _snapshots: dict[str, HostSnapshot]

    async def duplicate_definitions(self) -> list[DuplicateDefinition]:
        return duplicates_in(await self._poll_all())

    def known_duplicates(self) -> list[DuplicateDefinition]:
        return duplicates_in(list(self._snapshots.values()))

    async def undefine_copy(self, vm: str, host: str) -> None:
        inv = self._inv(host)
        snap = await self._poll(inv)
        if not snap.answered:
            raise HostUnreachable(snap.host.reason)
        copy = snap.vms.get(vm)
        if copy is None:
            raise InvalidOperation(f"Host {host} has no VM named {vm}.")
        if copy.state is not VmState.SHUTOFF:
            raise InvalidOperation(
                f"The copy of {vm} on {host} is {copy.state}: only a shut-off copy is removed."
            )
        command = virsh(inv.uri, "undefine", "--domain", vm)
        await self._run_change(inv, command, f"Undefining the copy of VM {vm}", vm)
