"""The emulated fleet's VM configuration and migration options (a mixin of EmulatedDriver):
its domain XML as the emulated hosts' virsh prints it, the networks each host offers,
and the migration options the emulator models (the others refused with the reason)."""

from __future__ import annotations

from typing import Any

import emulator
from vdctui.drivers.base import InvalidOperation
from vdctui.model import HostNetworks, MigrationOptions

MIB = 1 << 20
NOT_MODELLED = {
    "compressed": "the emulated hosts do not model page compression",
    "tunnelled": "the emulated hosts have no libvirtd connection to tunnel through",
}


def fleet_migrate_options(options: MigrationOptions) -> dict[str, Any]:
    """`Fleet.migrate` keyword arguments for `options`; what it does not model is refused."""
    for name, why in NOT_MODELLED.items():
        if getattr(options, name):
            raise InvalidOperation(f"Option {name} is not supported here: {why}.")
    if options.copy_storage == "incremental":
        raise InvalidOperation(
            "Incremental storage copy is not supported here: the emulated hosts share no "
            "base images (use a full copy)."
        )
    kwargs: dict[str, Any] = {
        "copy_storage": options.copy_storage == "full",
        "auto_converge": options.auto_converge,
        "postcopy": options.postcopy,
    }
    if options.bandwidth_mib_s is not None:
        kwargs["bandwidth_limit"] = float(options.bandwidth_mib_s * MIB)
    if options.max_downtime_ms is not None:
        kwargs["max_downtime_ms"] = float(options.max_downtime_ms)
    return kwargs


class EmulatedConfig:
    fleet: emulator.Fleet

    def _find(self, name: str) -> Any:
        raise NotImplementedError  # EmulatedDriver's

    def _check_reachable(self, host: str) -> None:
        raise NotImplementedError  # EmulatedDriver's

    def _change(self, call: Any, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError  # EmulatedDriver's

    async def check_migration_options(self, source: str, options: MigrationOptions) -> None:
        fleet_migrate_options(options)

    async def domain_xml(self, vm: str) -> str:
        from emulator.sshd.virsh import domain_xml  # imported when asked (it is large)

        v = self._find(vm)
        running = [
            n for n in self.fleet.hosts[v.host].vm_names if self.fleet.vms[n].state != "shut off"
        ]
        ids = {n: i + 1 for i, n in enumerate(running)}
        return domain_xml(v, ids)

    async def set_autostart(self, vm: str, on: bool) -> None:
        self._find(vm)
        self._change(self.fleet.set_autostart, vm, on)

    async def host_networks(self, host: str) -> HostNetworks | None:
        self._check_reachable(host)
        return HostNetworks(frozenset(self.fleet.host_networks(host)), None)
