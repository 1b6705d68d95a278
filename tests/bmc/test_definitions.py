"""Saved VM definitions (what HA restarts a fenced host's VMs from)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from vdctui.drivers.ssh.definitions import SavedDefinitions, with_sizes
from vdctui.model import VmSpec

XML = """<domain type='kvm' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
  <name>{name}</name>
  <uuid>6f1d2c8e-0000-4000-8000-000000000001</uuid>
  <memory unit='MiB'>64</memory>
  <vcpu placement='static'>1</vcpu>
  <os><type arch='x86_64'>hvm</type><kernel>/tmp/halt.bin</kernel></os>
  <qemu:commandline><qemu:arg value='-device'/></qemu:commandline>
</domain>
"""


def spec(name: str) -> VmSpec:
    return VmSpec(name, 2, 96, 4, 128, disk_gib=0, datastore="", network="")


def test_a_saved_definition_gets_the_sizes_known_now_and_keeps_everything_else() -> None:
    xml = with_sizes(XML.format(name="web1"), spec("web1"))
    root = ET.fromstring(xml)
    assert root.findtext("memory") == str(128 * 1024) and root.find("memory").get("unit") == "KiB"  # type: ignore[union-attr]
    assert root.findtext("currentMemory") == str(96 * 1024)
    assert root.findtext("vcpu") == "4" and root.find("vcpu").get("current") == "2"  # type: ignore[union-attr]
    assert root.findtext("uuid") == "6f1d2c8e-0000-4000-8000-000000000001"
    assert root.findtext("os/kernel") == "/tmp/halt.bin"
    assert "<qemu:commandline>" in xml and "xmlns:qemu=" in xml  # libvirt reads it as written


def test_definitions_are_kept_in_files_another_process_reads(tmp_path: Path) -> None:
    odd = "db/../x y"  # a VM name is not a path
    first = SavedDefinitions(tmp_path / "defs")
    first.keep(odd, XML.format(name=odd))
    first.keep("web1", XML.format(name="other"))  # not web1's: ignored
    files = list((tmp_path / "defs").iterdir())
    assert len(files) == 1 and files[0].parent == tmp_path / "defs"
    later = SavedDefinitions(tmp_path / "defs")
    assert later.has(odd) and not later.has("web1")
    restored = later.for_restart(spec(odd))
    assert restored is not None and ET.fromstring(restored).findtext("name") == odd
    assert later.for_restart(spec("web1")) is None  # none kept: the caller defines anew


def test_without_a_directory_definitions_live_in_memory() -> None:
    kept = SavedDefinitions()
    assert not kept.has("web1")
    kept.keep("web1", XML.format(name="web1"))
    assert kept.has("web1") and kept.saved("web1") == XML.format(name="web1")
