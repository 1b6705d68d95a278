"""A VM's configuration and a host's networks over virsh (a mixin of `SshDriver`):
`dumpxml` as the host prints it, and `net-list --name` with `iface-list --all` in one
virsh script (the networks and interfaces, bridges among them, a NIC can plug into)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from vdctui.drivers.base import HostUnreachable, InvalidOperation
from vdctui.drivers.ssh.commands import Sections, virsh, virsh_script
from vdctui.model import HostNetworks

if TYPE_CHECKING:
    from vdctui.drivers.ssh.inventory import InventoryHost
    from vdctui.drivers.ssh.pool import Completed, ConnectionPool
    from vdctui.model import Vm


def networks_commands(sections: Sections) -> list[list[str]]:
    return [
        sections.echo("networks"),
        ["net-list", "--name"],
        sections.echo("interfaces"),
        ["iface-list", "--all"],
        sections.echo("end"),
    ]


def parse_networks(parts: dict[str, str]) -> HostNetworks:
    networks = frozenset(line.strip() for line in parts.get("networks", "").splitlines())
    interfaces: frozenset[str] | None = None
    if "interfaces" in parts and parts["interfaces"].strip():
        rows = parts["interfaces"].splitlines()
        interfaces = frozenset(row.split()[0] for row in rows if row.split())
    return HostNetworks(networks - {""}, interfaces)


class SshConfig:
    pool: ConnectionPool

    async def _locate(self, name: str) -> tuple[InventoryHost, Vm]:
        raise NotImplementedError  # SshDriver's

    def _inv(self, host: str) -> InventoryHost:
        raise NotImplementedError  # SshDriver's

    async def _run_change(
        self, inv: InventoryHost, command: str, what: str, vm: str | None = None
    ) -> Completed:
        raise NotImplementedError  # SshDriver's

    async def set_autostart(self, vm: str, on: bool) -> None:
        inv, _ = await self._locate(vm)
        flags = [] if on else ["--disable"]
        command = virsh(inv.uri, "autostart", "--domain", vm, *flags)
        await self._run_change(inv, command, f"Autostart {'on' if on else 'off'} for VM {vm}", vm)

    async def domain_xml(self, vm: str) -> str:
        inv, _ = await self._locate(vm)
        out = await self.pool.run(inv, virsh(inv.uri, "dumpxml", "--domain", vm))
        if out.status != 0:
            raise InvalidOperation(f"Reading {vm}'s XML on host {inv.name} failed: {out.error}")
        return out.stdout

    async def host_networks(self, host: str) -> HostNetworks | None:
        inv = self._inv(host)
        sections = Sections()
        try:
            out = await self.pool.run(inv, virsh_script(inv.uri, networks_commands(sections)))
        except HostUnreachable:
            return None
        parts = sections.split(out.stdout)
        if "networks" not in parts:
            return None
        return parse_networks(parts)
