"""A pinned VM's migration carries the target's `<cputune>` and `<numatune>` in the
definitions it sends (`virsh migrate --xml ... --persistent-xml ...`)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from vdctui.drivers.ssh.commands import migrate
from vdctui.drivers.ssh.pinned_move import carrying, with_pins
from vdctui.model import CpuPins

DOMAIN = """<domain type='kvm' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
  <name>db</name>
  <metadata><app:tag xmlns:app='http://example.com/app'>x</app:tag></metadata>
  <vcpu placement='static'>2</vcpu>
  <cputune><shares>2048</shares><vcpupin vcpu='0' cpuset='3'/><emulatorpin cpuset='0'/></cputune>
  <numatune><memory mode='interleave' nodeset='0-1'/></numatune>
  <qemu:commandline><qemu:arg value='-S'/></qemu:commandline>
</domain>"""


def test_the_definition_gets_the_targets_pins_and_keeps_the_rest() -> None:
    xml = with_pins(DOMAIN, CpuPins(((5,), (7,)), (0, 8), (1,)))
    root = ET.fromstring(xml)
    pins = [(p.get("vcpu"), p.get("cpuset")) for p in root.findall("cputune/vcpupin")]
    assert pins == [("0", "5"), ("1", "7")]
    assert [e.get("cpuset") for e in root.findall("cputune/emulatorpin")] == ["0,8"]
    assert root.findtext("cputune/shares") == "2048"  # what else it tuned is kept
    memory = root.findall("numatune/memory")
    assert [(m.get("mode"), m.get("nodeset")) for m in memory] == [("strict", "1")]
    assert "<qemu:commandline>" in xml and "<app:tag" in xml  # prefixes kept


def test_a_definition_without_cputune_gets_one_and_shared_pins_keep_its_numatune() -> None:
    plain = "<domain type='kvm'><name>web</name><vcpu>2</vcpu></domain>"
    root = ET.fromstring(with_pins(plain, CpuPins(((2, 3), (2, 3)), (2, 3))))
    assert [p.get("cpuset") for p in root.findall("cputune/vcpupin")] == ["2,3", "2,3"]
    assert root.find("numatune") is None  # a shared VM's memory is not bound


def test_the_migration_line_sends_both_definitions_from_a_private_directory() -> None:
    line = migrate("qemu:///system", "db", "qemu+ssh://10.0.0.2/system", p2p=True)
    xml = "<domain><name>it's</name></domain>"
    script = carrying(line, xml, xml)
    assert script.startswith("d=$(mktemp -d) || exit 1; trap 'rm -rf \"$d\"' EXIT; ")
    assert "printf %s '<domain><name>it'\"'\"'s</name></domain>' > \"$d/live.xml\"" in script
    assert script.endswith(
        'qemu+ssh://10.0.0.2/system --xml "$d/live.xml" --persistent-xml "$d/persistent.xml"'
    )
