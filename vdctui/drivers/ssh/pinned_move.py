"""A pinned VM's migration carries the target's pins: the domain XML sent with `virsh
migrate --xml` (and `--persistent-xml`) has the `<cputune>` and `<numatune>` chosen on the
target, so the VM never runs there on its source's CPUs, nor unpinned, on arrival.

Both definitions are written to a private temporary directory on the source host (the
host virsh runs on), which is removed when the command ends, whatever its outcome.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import shlex
import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING

from vdctui.drivers.base import InvalidOperation
from vdctui.drivers.ssh import commands
from vdctui.drivers.ssh.cpus import cpu_list
from vdctui.model import CpuPins

if TYPE_CHECKING:
    from vdctui.drivers.ssh.inventory import InventoryHost
    from vdctui.drivers.ssh.pool import ConnectionPool


def with_pins(xml: str, pins: CpuPins) -> str:
    """The domain XML with `pins` as its vCPU and emulator pins and its memory binding
    (mode strict); anything else `<cputune>`/`<numatune>` held is kept, and every namespace
    (metadata, qemu:commandline) keeps its prefix."""
    for _event, (prefix, uri) in ET.iterparse(io.StringIO(xml), events=("start-ns",)):
        with contextlib.suppress(ValueError):
            ET.register_namespace(prefix, uri)
    root = ET.fromstring(xml)
    cputune = root.find("cputune")
    if cputune is None:
        cputune = ET.SubElement(root, "cputune")
    for old in cputune.findall("vcpupin") + cputune.findall("emulatorpin"):
        cputune.remove(old)
    for vcpu, cpus in enumerate(pins.vcpus):
        ET.SubElement(cputune, "vcpupin", {"vcpu": str(vcpu), "cpuset": cpu_list(cpus)})
    if pins.emulator:
        ET.SubElement(cputune, "emulatorpin", {"cpuset": cpu_list(pins.emulator)})
    if pins.memory_nodes:
        numatune = root.find("numatune")
        if numatune is None:
            numatune = ET.SubElement(root, "numatune")
        for old in numatune.findall("memory"):
            numatune.remove(old)
        memory = {"mode": "strict", "nodeset": cpu_list(pins.memory_nodes)}
        numatune.insert(0, ET.Element("memory", memory))
    return ET.tostring(root, encoding="unicode") + "\n"


def carrying(migrate: str, live_xml: str, persistent_xml: str) -> str:
    """The `virsh migrate` line run with `--xml` (the running domain's definition on the
    target) and `--persistent-xml` (the one it keeps), from a temporary directory."""
    return (
        "d=$(mktemp -d) || exit 1; trap 'rm -rf \"$d\"' EXIT; "
        f'printf %s {shlex.quote(live_xml)} > "$d/live.xml" && '
        f'printf %s {shlex.quote(persistent_xml)} > "$d/persistent.xml" && '
        f'{migrate} --xml "$d/live.xml" --persistent-xml "$d/persistent.xml"'
    )


async def carrying_pins(
    pool: ConnectionPool, source: InventoryHost, name: str, migrate: str, pins: CpuPins
) -> str:
    """`migrate` sending the source's definitions (running and persistent) with `pins`."""
    running, persistent = await asyncio.gather(
        pool.run(source, commands.dumpxml(source.uri, name, live_migratable=True)),
        pool.run(source, commands.dumpxml(source.uri, name, migratable=True)),
    )
    for out in (running, persistent):
        if out.status != 0:
            raise InvalidOperation(f"VM {name}'s definition cannot be read: {out.error}")
    return carrying(migrate, with_pins(running.stdout, pins), with_pins(persistent.stdout, pins))
