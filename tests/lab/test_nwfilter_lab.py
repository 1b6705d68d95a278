"""Security groups on real libvirt: each group an nwfilter, the VM's interface referencing
its filter (live and in its definition), the filters defined on the target before a live
migration, and a detach that takes the reference away; checked with plain virsh."""

from __future__ import annotations

import os
import shutil

import pytest

from tests.lab.conftest import Guests
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
