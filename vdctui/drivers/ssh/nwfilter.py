"""Security groups on real hosts: libvirt nwfilter.

Each group is a filter `vdctui-sg-GROUP` of accept rules; each filtered VM has a filter
`vdctui-vm-VM` that references libvirt's `clean-traffic` (against spoofing; only when the
host has it: it comes with libvirt-daemon-config-nwfilter), its groups' filters, accepts
established traffic, and drops the rest; its interfaces reference `vdctui-vm-VM`
(`update-device`, live and in its definition), keeping the parameters (`IP`) they had.
A rule naming a remote group becomes one accept rule per address of the group's members
(`addresses.py`: where a host knows them); a member with no known address is refused,
saying so. The filters are written again whenever the console applies a VM's firewall:
when a group's rules or members change, and on `secgroup refresh` (addresses).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import TYPE_CHECKING

from vdctui.drivers.base import HostUnreachable, InvalidOperation, NoSuchVm
from vdctui.drivers.ssh.addresses import SshAddresses
from vdctui.drivers.ssh.commands import virsh
from vdctui.drivers.ssh.counters import COMMENT
from vdctui.model import FirewallRule, VmFirewall, VmState

if TYPE_CHECKING:
    from vdctui.drivers.ssh.inventory import Inventory, InventoryHost
    from vdctui.drivers.ssh.pool import Completed, ConnectionPool
    from vdctui.model import Vm

SAFE = re.compile(r"^[A-Za-z0-9_.-]{1,60}$")
DIRECTION = {"ingress": "in", "egress": "out"}
BASE = "clean-traffic"
OPEN = "vdctui-open"  # filters nothing: an unfiltered interface's stated IP stays with it
OPEN_XML = f"<filter name='{OPEN}' chain='root'/>"


def filter_name(kind: str, name: str) -> str:
    if not SAFE.match(name):
        raise InvalidOperation(f"{name!r} cannot name an nwfilter (letters, digits, _ . - only).")
    return f"vdctui-{kind}-{name}"


def rule_xml(
    rule: FirewallRule, priority: int, addresses: Mapping[str, tuple[str, ...]]
) -> list[ET.Element]:
    """The accept rules of one security rule: one for a CIDR, one per address of the
    remote group's members (none for an empty group)."""
    remotes: list[tuple[str, str]]
    if rule.remote_cidr is not None:
        address, _, mask = rule.remote_cidr.partition("/")
        remotes = [(address, mask)]
    else:
        missing = [vm for vm in rule.remote_vms if vm not in addresses]
        if missing:
            raise InvalidOperation(
                f"Rule {rule.rule_id} of {rule.group} names VM {missing[0]}, whose address "
                "is not known, so it cannot be written as an nwfilter."
            )
        remotes = [(a, "32") for vm in rule.remote_vms for a in addresses[vm]]
    elements = []
    for address, mask in dict.fromkeys(remotes):
        element = ET.Element(
            "rule", action="accept", direction=DIRECTION[rule.direction], priority=str(priority)
        )
        kind = "all" if rule.protocol == "any" else rule.protocol
        side = "src" if rule.direction == "ingress" else "dst"
        match = ET.SubElement(element, kind, state="NEW", comment=COMMENT.format(rule.rule_id))
        match.set(f"{side}ipaddr", address)
        match.set(f"{side}ipmask", mask or "32")
        if rule.port_min is not None and rule.protocol in ("tcp", "udp"):
            match.set("dstportstart", str(rule.port_min))
            match.set("dstportend", str(rule.port_max or rule.port_min))
        elements.append(element)
    return elements


def group_filter(
    group: str, rules: list[FirewallRule], addresses: Mapping[str, tuple[str, ...]] | None = None
) -> str:
    """`addresses`: each remote-group member's IPv4 addresses."""
    root = ET.Element("filter", name=filter_name("sg", group), chain="root")
    for k, rule in enumerate(rules):
        root.extend(rule_xml(rule, 500 + k, addresses or {}))
    return ET.tostring(root, encoding="unicode")


def vm_filter(firewall: VmFirewall, *, base: bool) -> str:
    root = ET.Element("filter", name=filter_name("vm", firewall.vm), chain="root")
    if base:
        ET.SubElement(root, "filterref", filter=BASE)
    for group in firewall.groups:
        ET.SubElement(root, "filterref", filter=filter_name("sg", group))
    established = ET.SubElement(root, "rule", action="accept", direction="inout", priority="-500")
    ET.SubElement(established, "all", state="ESTABLISHED,RELATED")
    drop = ET.SubElement(root, "rule", action="drop", direction="inout", priority="1000")
    ET.SubElement(drop, "all")
    return ET.tostring(root, encoding="unicode")


def with_uuid(xml: str, listed: dict[str, str]) -> str:
    """The filter's XML with the UUID the host has for its name, if it has it."""
    root = ET.fromstring(xml)
    uuid = listed.get(root.get("name", ""))
    if uuid is None:
        return xml
    element = ET.Element("uuid")
    element.text = uuid
    root.insert(0, element)
    return ET.tostring(root, encoding="unicode")


def interfaces_with_filter(domain_xml: str, name: str | None) -> list[str]:
    """The domain's interfaces, each referencing filter `name` (None: no filter; one with
    parameters keeps them under OPEN, which filters nothing)."""
    root = ET.fromstring(domain_xml)
    found = []
    for interface in root.findall("./devices/interface"):
        parameters = []
        for old in interface.findall("filterref"):
            parameters += old.findall("parameter")  # IP: the address it may use
            interface.remove(old)
        for volatile in ("target", "alias", "address"):
            for element in interface.findall(volatile):
                interface.remove(element)
        if name is not None or parameters:
            ET.SubElement(interface, "filterref", filter=name or OPEN).extend(parameters)
        found.append(ET.tostring(interface, encoding="unicode"))
    return found


class SshFirewall(SshAddresses):
    """`HostDriver.set_firewall` over SSH (a mixin of SshDriver)."""

    if TYPE_CHECKING:
        pool: ConnectionPool
        inventory: Inventory

        def _inv(self, host: str) -> InventoryHost: ...

        async def _locate(self, name: str) -> tuple[InventoryHost, Vm]: ...

        async def _run_change(
            self,
            inv: InventoryHost,
            command: str,
            what: str,
            vm: str | None = None,
            input: str | None = None,
        ) -> Completed: ...

        async def _read(self, inv: InventoryHost, command: str, what: str) -> str: ...

    async def _remote_addresses(self, firewall: VmFirewall) -> dict[str, tuple[str, ...]]:
        """Each remote-group member's addresses (a VM no host defines: none, nothing of
        it to let through); a member that exists without a known address is refused."""
        found: dict[str, tuple[str, ...]] = {}
        for rule in firewall.rules:
            for vm in rule.remote_vms:
                if vm in found:
                    continue
                try:
                    found[vm] = await self.vm_addresses(vm)
                except NoSuchVm:
                    found[vm] = ()
                    continue
                if not found[vm]:
                    raise InvalidOperation(
                        f"VM {vm} (in the remote group of rule {rule.rule_id} of {rule.group}) "
                        "has no known address: state it as the IP parameter of its "
                        "interface's filterref, or let it take a lease on a libvirt network."
                    )
        return found

    async def prepare_firewall(self, host: str, firewall: VmFirewall) -> None:
        """Define the VM's filters on `host` (before it migrates there)."""
        await self._define_filters(self._inv(host), firewall)

    async def _define_filters(self, inv: InventoryHost, firewall: VmFirewall) -> None:
        listed = await self._listed(inv)
        addresses = await self._remote_addresses(firewall)
        for group in firewall.groups:
            rules = [r for r in firewall.rules if r.group == group]
            xml = group_filter(group, rules, addresses)
            await self._define(inv, xml, f"Defining nwfilter of group {group}", listed)
        xml = vm_filter(firewall, base=BASE in listed)
        await self._define(inv, xml, f"Defining nwfilter of VM {firewall.vm}", listed)

    async def forget_firewall_group(self, group: str) -> None:
        """Undefine the group's filter on every answering host that has it (a host that
        does not answer keeps an unused filter, redefined if the name is used again)."""
        for inv in self.inventory.hosts:
            try:
                await self._undefine(inv, filter_name("sg", group))
            except HostUnreachable:
                continue

    async def set_firewall(self, firewall: VmFirewall) -> None:
        inv, vm = await self._locate(firewall.vm)
        name = None
        if firewall.groups:
            await self._define_filters(inv, firewall)
            name = filter_name("vm", firewall.vm)
        live = vm.state in (VmState.RUNNING, VmState.PAUSED)
        xml = await self._read(
            inv, virsh(inv.uri, "dumpxml", "--domain", firewall.vm, "--inactive"), "dumpxml"
        )
        if name is None and "<parameter " in xml:
            await self._define(inv, OPEN_XML, "Defining the nwfilter that filters nothing")
        flags = ["--live", "--config"] if live else ["--config"]
        for interface in interfaces_with_filter(xml, name):
            await self._run_change(
                inv,
                virsh(
                    inv.uri,
                    "update-device",
                    "--domain",
                    firewall.vm,
                    "--file",
                    "/dev/stdin",
                    *flags,
                ),  # fmt: skip
                f"Filtering VM {firewall.vm}'s interface",
                vm=firewall.vm,
                input=interface,
            )
        if name is None:  # its own filter (naming its former groups) is not needed now
            await self._undefine(inv, filter_name("vm", firewall.vm))

    async def _listed(self, inv: InventoryHost) -> dict[str, str]:
        """The host's filters: name -> UUID (`nwfilter-list`)."""
        listed = await self._read(inv, virsh(inv.uri, "nwfilter-list"), "Listing nwfilters")
        return {w[-1]: w[0] for line in listed.splitlines() if len(w := line.split()) == 2}

    async def _define(
        self, inv: InventoryHost, xml: str, what: str, listed: dict[str, str] | None = None
    ) -> None:
        """Define a filter; one the host has already keeps its UUID (libvirt refuses the
        same name with another UUID, and makes a new one for a filter without)."""
        listed = await self._listed(inv) if listed is None else listed
        command = virsh(inv.uri, "nwfilter-define", "--file", "/dev/stdin")
        await self._run_change(inv, command, what, input=with_uuid(xml, listed))

    async def _undefine(self, inv: InventoryHost, name: str) -> None:
        """Undefine filter `name` if the host has it."""
        if name in await self._listed(inv):
            command = virsh(inv.uri, "nwfilter-undefine", "--nwfilter", name)
            await self._run_change(inv, command, f"Undefining nwfilter {name}")
