"""VMs defined on two hosts at once: listed with every copy and its state (never collapsed
into one), and the removal of a shut-off stale copy through the door (vm.remove-copy)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from vdctui.drivers.base import DriverError
from vdctui.model import DuplicateDefinition, VmState
from vdctui.ops.actions import Action
from vdctui.ops.errors import Refused
from vdctui.ops.handover import fleet_operation

if TYPE_CHECKING:
    from vdctui.ops.console import Console


@fleet_operation()
async def duplicates(console: Console) -> list[DuplicateDefinition]:
    """Every VM more than one host defines, as the hosts say now."""
    try:
        return await console.driver.duplicate_definitions()
    except DriverError as exc:
        raise Refused(str(exc)) from exc


@fleet_operation(Action.VM_REMOVE_COPY)
async def remove_copy(console: Console, vm: str, host: str) -> None:
    """Undefine the copy of `vm` on `host`: only a shut-off copy of a VM another host also
    defines (the console never removes a VM's only definition this way)."""

    async def work() -> None:
        found = {d.vm: d for d in await console.driver.duplicate_definitions()}
        duplicate = found.get(vm)
        if duplicate is None:
            raise Refused(f"{vm} is not defined on two hosts; nothing to remove.")
        copies = dict(duplicate.copies)
        if host not in copies:
            raise Refused(f"Host {host} has no copy of {vm} (it is on {', '.join(copies)}).")
        if copies[host] is not VmState.SHUTOFF:
            raise Refused(
                f"The copy of {vm} on {host} is {copies[host]}: only a shut-off copy is removed."
            )
        await console.driver.undefine_copy(vm, host)
        await console.sync()

    await console.change(Action.VM_REMOVE_COPY, vm, {"host": host}, work)
