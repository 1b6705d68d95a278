"""Saved VM definitions: each VM's domain XML as last read from a host that has a BMC.

A host that is fenced cannot be asked for its VMs' definitions any more; HA restarts them
elsewhere from the copy kept here (`virsh dumpxml --inactive --migratable`, read once per
VM when first seen), with the sizes the console knows now. Kept in memory and, when the
console has a place for them, as one file per VM (written atomically) so that another
process (`vdctui ha restart`) finds them. Only hosts with a BMC are read: only those can
be fenced, and the read costs one exec per VM.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import quote

from vdctui.model import VmSpec


class SavedDefinitions:
    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory
        self._kept: dict[str, str] = {}

    def _file(self, name: str) -> Path | None:
        if self.directory is None:
            return None
        return self.directory / f"{quote(name, safe='')[:200]}.xml"

    def has(self, name: str) -> bool:
        if name in self._kept:
            return True
        path = self._file(name)
        return path is not None and path.exists()

    def keep(self, name: str, xml: str) -> None:
        """Keep `xml` as VM `name`'s definition (ignored unless it is a domain named so)."""
        if domain_name(xml) != name:
            return
        self._kept[name] = xml
        path = self._file(name)
        if path is None:
            return
        with contextlib.suppress(OSError):  # memory still has it; a file is a convenience
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".saving-")
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(xml)
            os.replace(tmp, path)

    def saved(self, name: str) -> str | None:
        if name in self._kept:
            return self._kept[name]
        path = self._file(name)
        if path is None:
            return None
        try:
            xml = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None
        return xml if domain_name(xml) == name else None

    def for_restart(self, spec: VmSpec) -> str | None:
        """The saved definition with the spec's vCPUs and memory, or None if none is kept."""
        xml = self.saved(spec.name)
        return None if xml is None else with_sizes(xml, spec)


def domain_name(xml: str) -> str | None:
    try:
        root = ET.fromstring(xml)
    except ET.ParseError:
        return None
    return root.findtext("name") if root.tag == "domain" else None


def with_sizes(xml: str, spec: VmSpec) -> str:
    """The domain XML with the spec's vCPUs (current, maximum) and memory (current, maximum);
    every namespace (metadata, qemu:commandline) keeps its prefix."""
    for _event, (prefix, uri) in ET.iterparse(io.StringIO(xml), events=("start-ns",)):
        with contextlib.suppress(ValueError):
            ET.register_namespace(prefix, uri)
    root = ET.fromstring(xml)
    for tag, kib in (("memory", spec.max_memory_mib), ("currentMemory", spec.memory_mib)):
        node = root.find(tag)
        if node is None:
            node = ET.SubElement(root, tag)
        node.text = str(kib * 1024)
        node.attrib = {"unit": "KiB"}
    vcpu = root.find("vcpu")
    if vcpu is None:
        vcpu = ET.SubElement(root, "vcpu")
    vcpu.text = str(spec.max_vcpus)
    vcpu.set("current", str(spec.vcpus))
    return ET.tostring(root, encoding="unicode") + "\n"
