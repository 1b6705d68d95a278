"""A VM's configuration and a host's networks over virsh (a mixin of `SshDriver`):
`dumpxml` as the host prints it, and `net-list --name` with `iface-list --all` in one
virsh script (the networks and interfaces, bridges among them, a NIC can plug into);
and whether a target's hypervisor can run a VM's CPU as its source defines it
(`virsh hypervisor-cpu-compare --error` on the target, the VM's live XML on stdin)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from vdctui.drivers.base import HostUnreachable, InvalidOperation
from vdctui.drivers.ssh.commands import Sections, virsh, virsh_script
from vdctui.escape import for_terminal
from vdctui.model import CpuComparison, HostNetworks

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


REASON_CHARS = 300  # of libvirt's reason (its list of missing features can be long)


def cpu_comparison(status: int, stdout: str, error: str) -> CpuComparison | None:
    """What `hypervisor-cpu-compare --error` said; None when it could not compare (an
    older libvirt, a CPU mode it does not compare): the model-based check is used then."""
    said = stdout.strip()
    if status == 0 and ("superset" in said or "identical" in said):
        return CpuComparison(True, "identical" if "identical" in said else "superset")
    if status != 0 and "incompatible" in error:
        lines = [ln.removeprefix("error: ") for ln in error.strip().splitlines() if ln.strip()]
        reason = lines[-1] if lines else "incompatible"
        if len(reason) > REASON_CHARS:
            reason = reason[:REASON_CHARS] + "…"
        return CpuComparison(False, for_terminal(reason))
    return None


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

    async def compare_cpu(self, domain_xml: str, target: str) -> CpuComparison | None:
        inv = self._inv(target)
        command = virsh(inv.uri, "hypervisor-cpu-compare", "--file", "/dev/stdin", "--error")
        try:
            out = await self.pool.run(inv, command, input=domain_xml)
        except HostUnreachable:
            return None
        return cpu_comparison(out.status, out.stdout, out.error)

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
