"""A VM's configuration: the XML, its structured view, autostart through the door."""

from __future__ import annotations

import pytest

import emulator
from tests.conftest import running_vm_on_shared_storage
from vdctui.drivers.emulated import EmulatedDriver
from vdctui.model import Role
from vdctui.ops import Console, Identity, Refused
from vdctui.ops import config as vm_config
from vdctui.store import Store

LAB_LIKE = """<domain type='kvm'>
  <name>web1</name>
  <memory unit='MiB'>128</memory>
  <currentMemory unit='KiB'>65536</currentMemory>
  <vcpu placement='static' current='1'>4</vcpu>
  <cputune><vcpupin vcpu='0' cpuset='2'/></cputune>
  <cpu mode='host-passthrough'><topology sockets='1' dies='1' cores='4' threads='1'/></cpu>
  <os><type>hvm</type><kernel>/img/halt.mb</kernel><boot dev='hd'/></os>
  <devices>
    <disk type='file' device='disk'><driver name='qemu' type='qcow2'/>
      <source file='/img/web1.qcow2'/><target dev='vda' bus='virtio'/></disk>
    <interface type='bridge'><mac address='52:54:00:aa:bb:cc'/><source bridge='br0'/>
      <model type='virtio'/></interface>
    <memballoon model='virtio'/>
  </devices>
</domain>"""


def test_the_structured_view_says_what_operators_look_for() -> None:
    lines = {c.part: c.text for c in vm_config.structured(LAB_LIKE, True)}
    assert lines["cpu"].startswith("1 vCPUs of at most 4 (static)")
    assert "4 cores" in lines["cpu"] and "host-passthrough" in lines["cpu"]
    assert lines["pinning"] == "0→2"
    assert lines["memory"] == "64 MiB of at most 128 MiB · balloon virtio"
    assert lines["disk"] == "vda disk /img/web1.qcow2 (qcow2) bus virtio"
    assert lines["nic"] == "bridge br0 mac 52:54:00:aa:bb:cc model virtio"
    assert lines["boot"] == "hd · kernel /img/halt.mb"
    assert lines["autostart"] == "on"
    assert {c.part: c.text for c in vm_config.structured("<domain/>", None)}["autostart"] == "—"
    with pytest.raises(Refused, match="does not read"):
        vm_config.structured("<domain", None)


async def test_xml_and_autostart_through_the_door(
    console: Console, fleet: emulator.Fleet, driver: EmulatedDriver
) -> None:
    name = running_vm_on_shared_storage(fleet)
    xml = await vm_config.domain_xml(console, name)
    assert f"<name>{name}</name>" in xml
    done = await vm_config.set_autostart(console, name, True)
    assert done.autostart is True and name in fleet.autostart
    assert console.audit(limit=1)[0].action == "vm.autostart"
    viewer = Console(Store(":memory:"), driver, Identity("bob", Role.VIEWER))
    await viewer.sync()
    with pytest.raises(Refused):
        await vm_config.set_autostart(viewer, name, False)
    assert name in fleet.autostart
    with pytest.raises(Refused, match="no VM named"):
        await vm_config.domain_xml(console, "ghost")
