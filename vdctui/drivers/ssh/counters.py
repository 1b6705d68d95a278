"""What the security groups' filters let through and dropped on real hosts, from the
counters of the iptables rules libvirt instantiated for each guest's tap
(`iptables-save -c`, run as the SSH user: it needs root, or CAP_NET_ADMIN).

Each accept rule carries the comment `vdctui-rule-N` (nwfilter's `comment` attribute),
so its packets are rule N's; the final drop of a tap's chains (FO-: to the guest, FI-:
from it, HI-: from it to the host) counts its VM's dropped packets. Real hosts count
packets, not connections: an accepted rule counts the first packet of each connection
it let open (state NEW), a drop counts every packet dropped (a retried SYN twice).
Packets are counted, never inspected: no source or port is recorded, so the intrusion
alerts (which need flow records) are still not raised for real hosts.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from vdctui.drivers.base import HostUnreachable, InvalidOperation
from vdctui.model import FlowCounts

if TYPE_CHECKING:
    from vdctui.drivers.ssh.inventory import Inventory, InventoryHost
    from vdctui.drivers.ssh.pool import ConnectionPool
    from vdctui.drivers.ssh.snapshot import HostSnapshot

COMMENT = "vdctui-rule-{}"
LINE = re.compile(r"^\[(\d+):\d+\] -A (?:FO|FI|HI)-(\S+) (.*)$")
RULE = re.compile(r'--comment "?vdctui-rule-(\d+)"?')


def add_counts(text: str, vm_of_tap: dict[str, str], counts: FlowCounts) -> None:
    """Add the packets of `iptables-save -c` output to `counts` (taps of unknown VMs:
    not counted)."""
    for line in text.splitlines():
        found = LINE.match(line)
        if found is None:
            continue
        packets, tap, rest = int(found[1]), found[2], found[3]
        vm = vm_of_tap.get(tap)
        if vm is None or not packets:
            continue
        rule = RULE.search(rest)
        if rule is not None and rest.endswith("-j ACCEPT"):
            counts.by_rule[int(rule[1])] = counts.by_rule.get(int(rule[1]), 0) + packets
            counts.allowed[vm] = counts.allowed.get(vm, 0) + packets
        elif rest == "-j DROP":
            counts.dropped[vm] = counts.dropped.get(vm, 0) + packets


class SshCounters:
    """`HostDriver.flow_counts` over SSH (a mixin of SshDriver)."""

    if TYPE_CHECKING:
        pool: ConnectionPool
        inventory: Inventory

        async def _poll(self, inv: InventoryHost) -> HostSnapshot: ...

    async def flow_counts(self) -> FlowCounts:
        counts = FlowCounts({}, {}, {})
        read = 0
        for inv in self.inventory.hosts:
            try:
                snap = await self._poll(inv)
                if not snap.answered:
                    continue
                out = await self.pool.run(inv, "LC_ALL=C iptables-save -c")
            except HostUnreachable:
                continue
            if out.status != 0:
                continue
            read += 1
            taps = {nic.name: vm.name for vm in snap.vms.values() for nic in vm.nics}
            add_counts(out.stdout, taps, counts)
        if not read:
            raise InvalidOperation(
                "No host let its packet counters be read (iptables-save needs root)."
            )
        return counts
