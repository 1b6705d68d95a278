"""A VM's IPv4 addresses on a real host, for security rules whose remote is a group.

Libvirt has no one place for a guest's address. In order: the `IP` parameters of its
interfaces' filterrefs (the address nwfilter's `clean-traffic` lets it use: the
operator's statement, in the VM's definition), then the leases of libvirt's own networks
(`domifaddr --source lease`), then the host's ARP table (`--source arp`: only a guest that
has talked). A VM none of them knows has no known address.
"""

from __future__ import annotations

import ipaddress
import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING

from vdctui.drivers.ssh.commands import virsh

if TYPE_CHECKING:
    from vdctui.drivers.ssh.inventory import InventoryHost
    from vdctui.drivers.ssh.pool import ConnectionPool
    from vdctui.model import Vm


def _ipv4(text: str) -> str | None:
    try:
        return str(ipaddress.IPv4Address(text.strip().partition("/")[0]))
    except ValueError:
        return None


def filterref_addresses(domain_xml: str) -> list[str]:
    """IPv4 `IP` parameters of the domain's interfaces' filterrefs, in order, once each."""
    found: list[str] = []
    for parameter in ET.fromstring(domain_xml).findall("./devices/interface/filterref/parameter"):
        address = _ipv4(parameter.get("value", "")) if parameter.get("name") == "IP" else None
        if address is not None and address not in found:
            found.append(address)
    return found


def domifaddr_addresses(text: str) -> list[str]:
    """The ipv4 addresses of `virsh domifaddr` (a table: name, MAC, protocol, address)."""
    found: list[str] = []
    for line in text.splitlines():
        words = line.split()
        if len(words) >= 2 and words[-2] == "ipv4":
            address = _ipv4(words[-1])
            if address is not None and address not in found:
                found.append(address)
    return found


class SshAddresses:
    """`vm_addresses` over SSH (a mixin of SshDriver)."""

    if TYPE_CHECKING:
        pool: ConnectionPool

        async def _locate(self, name: str) -> tuple[InventoryHost, Vm]: ...

    async def vm_addresses(self, vm: str) -> tuple[str, ...]:
        """The VM's IPv4 addresses as its host knows them (empty: not known)."""
        inv, _ = await self._locate(vm)
        xml = await self.pool.run(inv, virsh(inv.uri, "dumpxml", "--domain", vm, "--inactive"))
        if xml.status == 0:
            stated = filterref_addresses(xml.stdout)
            if stated:
                return tuple(stated)
        for source in ("lease", "arp"):
            out = await self.pool.run(
                inv, virsh(inv.uri, "domifaddr", "--domain", vm, "--source", source)
            )
            if out.status == 0 and (seen := domifaddr_addresses(out.stdout)):
                return tuple(seen)
        return ()
