"""Security groups on real hosts: libvirt nwfilter.

Each group is a filter `vdctui-sg-GROUP` of accept rules; each filtered VM has a filter
`vdctui-vm-VM` that references libvirt's `clean-traffic` (against spoofing; only when the
host has it: it comes with libvirt-daemon-config-nwfilter), its groups' filters, accepts
established traffic, and drops the rest; its interfaces reference `vdctui-vm-VM`
(`update-device`, live and in its definition). Rules naming a remote group cannot be
written here: real hosts do not report their guests' addresses, so they are refused.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING

from vdctui.drivers.base import HostUnreachable, InvalidOperation
from vdctui.drivers.ssh.commands import virsh
from vdctui.model import FirewallRule, VmFirewall, VmState

if TYPE_CHECKING:
    from vdctui.drivers.ssh.inventory import Inventory, InventoryHost
    from vdctui.drivers.ssh.pool import Completed, ConnectionPool
    from vdctui.model import Vm

SAFE = re.compile(r"^[A-Za-z0-9_.-]{1,60}$")
DIRECTION = {"ingress": "in", "egress": "out"}
BASE = "clean-traffic"


def filter_name(kind: str, name: str) -> str:
    if not SAFE.match(name):
        raise InvalidOperation(f"{name!r} cannot name an nwfilter (letters, digits, _ . - only).")
    return f"vdctui-{kind}-{name}"


def rule_xml(rule: FirewallRule, priority: int) -> ET.Element:
    if rule.remote_vms or rule.remote_cidr is None:
        raise InvalidOperation(
            f"Rule {rule.rule_id} of {rule.group} names a remote group: real hosts do not "
            "report their guests' addresses, so it cannot be written as an nwfilter."
        )
    element = ET.Element(
        "rule", action="accept", direction=DIRECTION[rule.direction], priority=str(priority)
    )
    kind = "all" if rule.protocol == "any" else rule.protocol
    address, _, mask = rule.remote_cidr.partition("/")
    side = "src" if rule.direction == "ingress" else "dst"
    match = ET.SubElement(element, kind, state="NEW")
    match.set(f"{side}ipaddr", address)
    match.set(f"{side}ipmask", mask or "32")
    if rule.port_min is not None and rule.protocol in ("tcp", "udp"):
        match.set("dstportstart", str(rule.port_min))
        match.set("dstportend", str(rule.port_max or rule.port_min))
    return element


def group_filter(group: str, rules: list[FirewallRule]) -> str:
    root = ET.Element("filter", name=filter_name("sg", group), chain="root")
    for k, rule in enumerate(rules):
        root.append(rule_xml(rule, 500 + k))
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


def interfaces_with_filter(domain_xml: str, name: str | None) -> list[str]:
    """The domain's interfaces, each referencing filter `name` (None: no filter)."""
    root = ET.fromstring(domain_xml)
    found = []
    for interface in root.findall("./devices/interface"):
        for old in interface.findall("filterref"):
            interface.remove(old)
        for volatile in ("target", "alias", "address"):
            for element in interface.findall(volatile):
                interface.remove(element)
        if name is not None:
            ET.SubElement(interface, "filterref", filter=name)
        found.append(ET.tostring(interface, encoding="unicode"))
    return found


class SshFirewall:
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

    async def prepare_firewall(self, host: str, firewall: VmFirewall) -> None:
        """Define the VM's filters on `host` (before it migrates there)."""
        await self._define_filters(self._inv(host), firewall)

    async def _define_filters(self, inv: InventoryHost, firewall: VmFirewall) -> None:
        listed = await self._read(inv, virsh(inv.uri, "nwfilter-list"), "Listing nwfilters")
        base = any(line.split()[-1:] == [BASE] for line in listed.splitlines())
        for group in firewall.groups:
            rules = [r for r in firewall.rules if r.group == group]
            await self._run_change(
                inv,
                virsh(inv.uri, "nwfilter-define", "--file", "/dev/stdin"),
                f"Defining nwfilter of group {group}",
                input=group_filter(group, rules),
            )
        await self._run_change(
            inv,
            virsh(inv.uri, "nwfilter-define", "--file", "/dev/stdin"),
            f"Defining nwfilter of VM {firewall.vm}",
            input=vm_filter(firewall, base=base),
        )

    async def forget_firewall_group(self, group: str) -> None:
        """Undefine the group's filter on every answering host that has it (a host that
        does not answer keeps an unused filter, redefined if the name is used again)."""
        name = filter_name("sg", group)
        for inv in self.inventory.hosts:
            try:
                listed = await self._read(inv, virsh(inv.uri, "nwfilter-list"), "Listing nwfilters")
            except HostUnreachable:
                continue
            if any(line.split()[-1:] == [name] for line in listed.splitlines()):
                await self._run_change(
                    inv,
                    virsh(inv.uri, "nwfilter-undefine", "--nwfilter", name),
                    f"Undefining nwfilter of group {group}",
                )

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
