"""Security groups on real libvirt: each group an nwfilter, the VM's interface referencing
its filter (live and in its definition), the filters defined on the target before a live
migration, and a detach that takes the reference away; checked with plain virsh.

A rule whose remote is a group is written with its members' addresses and written again
when members change; real packets go through it: the lab's guests cannot send any (a
multiboot image that halts), so a namespace on the guests' bridge sends TCP SYNs to a
guest from a member's address and from another, and the counters of the iptables rules
libvirt instantiated for the guest's tap say which were accepted and which dropped."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.lab.conftest import Guests
from tests.lab.guests import STATED_FILTER_XML
from tests.lab.lab import Lab
from vdctui.ops import Console
from vdctui.ops import secgroups as sg

NWFILTER_TOOLS = bool(shutil.which("iptables") and shutil.which("ebtables"))
pytestmark = pytest.mark.skipif(
    not NWFILTER_TOOLS and not os.environ.get("CI"),  # CI installs them (.ci/run): never skip there
    reason="libvirt's nwfilter needs iptables and ebtables (apt-get install iptables ebtables)",
)


async def test_a_group_is_an_nwfilter_referenced_by_the_vm_and_taken_along(
    lab: Lab, lab_console: Console, guests: Guests
) -> None:
    name = guests.define("fw-vm", 1)
    await lab_console.sync()
    await sg.create(lab_console, "front")
    await sg.add_rule(lab_console, "front", "ingress", "tcp", "443", "10.0.0.0/8")
    await sg.attach(lab_console, "front", name)

    listed = lab.virsh(1, "nwfilter-list").stdout
    assert "vdctui-sg-front" in listed and f"vdctui-vm-{name}" in listed
    group = lab.virsh(1, "nwfilter-dumpxml", "vdctui-sg-front").stdout
    assert "dstportstart='443'" in group and "srcipaddr='10.0.0.0'" in group
    own = lab.virsh(1, "nwfilter-dumpxml", f"vdctui-vm-{name}").stdout
    assert "filter='vdctui-sg-front'" in own and "action='drop'" in own
    reference = f"<filterref filter='vdctui-vm-{name}'/>"
    assert reference in lab.virsh(1, "dumpxml", name).stdout  # live
    assert reference in lab.virsh(1, "dumpxml", name, "--inactive").stdout  # its definition

    run = await lab_console.migrate_vm(name, "labh3")
    result = await run.wait()
    assert result.outcome.value == "succeeded", result.reason
    assert "vdctui-sg-front" in lab.virsh(3, "nwfilter-list").stdout
    assert reference in lab.virsh(3, "dumpxml", name).stdout

    await sg.attach(lab_console, "front", name, on=False)
    assert "filterref" not in lab.virsh(3, "dumpxml", name).stdout


@contextmanager
def peer_on_bridge(lab: Lab, host: int) -> Iterator[str]:
    """A network namespace with a veth on host `host`'s guest bridge br0 (removed after)."""
    netns = f"{lab.host(host).netns}fw"
    inside, outside = f"{netns}p", f"{netns}h"
    ip = ["ip", "netns", "exec"]
    try:
        subprocess.run(["ip", "netns", "add", netns], check=True)
        subprocess.run(
            ["ip", "link", "add", inside, "type", "veth", "peer", "name", outside, "netns"]
            + [lab.host(host).netns],
            check=True,
        )
        subprocess.run(["ip", "link", "set", inside, "netns", netns], check=True)
        subprocess.run(
            [*ip, lab.host(host).netns, "ip", "link", "set", outside, "master", "br0", "up"],
            check=True,
        )
        subprocess.run([*ip, netns, "ip", "link", "set", inside, "up"], check=True)
        yield netns
    finally:
        subprocess.run(["ip", "netns", "del", netns], check=False)


def send_syn(netns: str, source: str, mac: str, target: str, port: int) -> None:
    """One TCP connection attempt from `source` (an address put on the peer) to `target`,
    whose MAC is given (the guest never answers ARP)."""
    device = f"{netns}p"
    ip = ["ip", "netns", "exec", netns, "ip"]
    subprocess.run([*ip, "addr", "flush", "dev", device], check=True)
    subprocess.run([*ip, "addr", "add", f"{source}/24", "dev", device], check=True)
    subprocess.run([*ip, "neigh", "replace", target, "lladdr", mac, "dev", device], check=True)
    attempt = (
        "import socket; s = socket.socket(); s.settimeout(0.3)\n"
        f"try: s.connect(({target!r}, {port}))\nexcept OSError: pass"
    )
    subprocess.run(["ip", "netns", "exec", netns, "python3", "-c", attempt], check=True)


def accepted_and_dropped(lab: Lab, host: int, vm: str, source: str, port: int) -> tuple[int, int]:
    """Packets of the VM's inbound chain (FO-TAP; the bridge floods frames for a guest
    that never sent one to every tap, so only its own chain counts): accepted by the
    rule for `source` and `port`, and dropped by the final drop."""
    [tap] = [line.split()[0] for line in lab.virsh(host, "domiflist", vm).stdout.splitlines()]
    listed = lab.run(host, "iptables-save", "-c").stdout
    accepted = dropped = 0
    for line in listed.splitlines():
        if not line.startswith("[") or f" -A FO-{tap} " not in line:
            continue
        packets = int(line[1:].split(":")[0])
        if f"-s {source}/32" in line and f"--dport {port}" in line and "ACCEPT" in line:
            accepted += packets
        elif line.endswith("-j DROP"):
            dropped += packets
    return accepted, dropped


async def test_a_remote_group_rule_lets_in_only_its_members_addresses(
    lab: Lab, lab_console: Console, guests: Guests
) -> None:
    lab.virsh(1, "nwfilter-define", "/dev/stdin", input=STATED_FILTER_XML)
    app = guests.define("fw-app", 1, ip="10.88.6.2")
    app2 = guests.define("fw-app2", 1, ip="10.88.6.4")
    db = guests.define("fw-db", 1, ip="10.88.6.3")
    await lab_console.sync()
    await sg.create(lab_console, "app")
    await sg.create(lab_console, "db")
    rule = await sg.add_rule(lab_console, "db", "ingress", "tcp", "5432", "group:app")
    await sg.attach(lab_console, "db", db)
    await sg.attach(lab_console, "app", app)
    written = lab.virsh(1, "nwfilter-dumpxml", "vdctui-sg-db").stdout
    assert "srcipaddr='10.88.6.2'" in written and "10.88.6.4" not in written
    domain = lab.virsh(1, "dumpxml", db).stdout
    assert "<parameter name='IP' value='10.88.6.3'/>" in domain  # the stated address kept
    mac = domain.split("<mac address='")[1].split("'")[0]

    with peer_on_bridge(lab, 1) as peer:
        send_syn(peer, "10.88.6.2", mac, "10.88.6.3", 5432)  # from app's address
        send_syn(peer, "10.88.6.4", mac, "10.88.6.3", 5432)  # app2: not a member yet
        accepted, dropped = accepted_and_dropped(lab, 1, db, "10.88.6.2", 5432)
        assert accepted >= 1 and dropped >= 1

        await sg.attach(lab_console, "app", app2)  # db's filter is written again
        assert "srcipaddr='10.88.6.4'" in lab.virsh(1, "nwfilter-dumpxml", "vdctui-sg-db").stdout
        before = accepted_and_dropped(lab, 1, db, "10.88.6.4", 5432)
        send_syn(peer, "10.88.6.4", mac, "10.88.6.3", 5432)
        after = accepted_and_dropped(lab, 1, db, "10.88.6.4", 5432)
        assert after[0] > before[0] and after[1] == before[1]

        # the console reads the same counters: packets per rule and per VM
        counts = await sg.flow_counts(lab_console)
        assert counts is not None
        assert counts.by_rule.get(rule, 0) == after[0] and counts.allowed.get(db, 0) >= after[0]
        assert counts.dropped.get(db, 0) == after[1]

    await sg.delete(lab_console, "app", detach=True)  # db's rule naming it goes too
    listed = {line.split()[-1] for line in lab.virsh(1, "nwfilter-list").stdout.splitlines()}
    assert "vdctui-sg-app" not in listed and f"vdctui-vm-{app}" not in listed
    assert "vdctui-sg-db" in listed
    assert "<rule" not in lab.virsh(1, "nwfilter-dumpxml", "vdctui-sg-db").stdout
    interface = lab.virsh(1, "dumpxml", app).stdout.split("<interface")[1]
    assert "<filterref filter='vdctui-open'>" in interface  # filters nothing, keeps its IP
    assert "<parameter name='IP' value='10.88.6.2'/>" in interface
