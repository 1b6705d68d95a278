"""A VM's configuration as its host holds it: the domain XML (read-only), the same in a
structured view (CPU, memory, disks, NICs, boot, autostart), and autostart on/off as an
audited change through the door."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from vdctui.drivers.base import DriverError
from vdctui.model import Vm
from vdctui.ops.actions import Action
from vdctui.ops.errors import Refused
from vdctui.ops.handover import fleet_operation

if TYPE_CHECKING:
    import xml.etree.ElementTree as ET

    from vdctui.ops.console import Console

KIB_PER = {"b": 1 / 1024, "bytes": 1 / 1024, "kib": 1, "k": 1, "mib": 1024, "m": 1024}
KIB_PER |= {"gib": 1024**2, "g": 1024**2}


@dataclass(frozen=True, slots=True)
class ConfigLine:
    """One line of the structured view: what (cpu, memory, disk, nic, boot, autostart)
    and what the XML says of it, in the operator's words."""

    part: str
    text: str


def _mib(node: ET.Element | None) -> str:
    if node is None or not (node.text or "").strip().isdigit():
        return "—"
    unit = node.get("unit", "KiB").lower()
    kib = int((node.text or "0").strip()) * KIB_PER.get(unit, 1)
    return f"{kib / 1024:g} MiB"


def structured(xml: str, autostart: bool | None) -> list[ConfigLine]:
    """The parts of a domain XML an operator looks for, one line each. Pure."""
    import xml.etree.ElementTree as ET  # not before the console's first frame

    try:
        root = ET.fromstring(xml)
    except ET.ParseError as exc:
        raise Refused(f"The host's XML for this VM does not read ({exc}).") from None
    lines: list[ConfigLine] = []
    vcpu = root.find("vcpu")
    if vcpu is not None:
        most = (vcpu.text or "").strip()
        placed = vcpu.get("placement", "static")
        text = f"{vcpu.get('current', most)} vCPUs of at most {most} ({placed})"
        topology = root.find("cpu/topology")
        if topology is not None:
            parts = ("sockets", "dies", "cores", "threads")
            text += " · " + ", ".join(f"{topology.get(p)} {p}" for p in parts if topology.get(p))
        mode = root.find("cpu")
        if mode is not None and mode.get("mode"):
            text += f" · cpu mode {mode.get('mode')}"
        lines.append(ConfigLine("cpu", text))
    pins = [f"{p.get('vcpu')}→{p.get('cpuset')}" for p in root.iter("vcpupin")]
    if pins:
        lines.append(ConfigLine("pinning", ", ".join(pins)))
    balloon = root.find("devices/memballoon")
    memory = f"{_mib(root.find('currentMemory'))} of at most {_mib(root.find('memory'))}"
    memory += f" · balloon {balloon.get('model', '—') if balloon is not None else 'none'}"
    lines.append(ConfigLine("memory", memory))
    for disk in root.iter("disk"):
        source = disk.find("source")
        where = "—"
        if source is not None:
            where = source.get("file") or source.get("dev") or source.get("name") or "—"
        target = disk.find("target")
        driver = disk.find("driver")
        text = (
            f"{target.get('dev', '?') if target is not None else '?'} {disk.get('device', 'disk')}"
        )
        text += f" {where}" + (f" ({driver.get('type')})" if driver is not None else "")
        text += f" bus {target.get('bus', '—') if target is not None else '—'}"
        lines.append(ConfigLine("disk", text))
    for nic in root.iter("interface"):
        source = nic.find("source")
        attach = ""
        if source is not None:
            attach = source.get("network") or source.get("bridge") or source.get("dev") or ""
        mac = nic.find("mac")
        model = nic.find("model")
        text = f"{nic.get('type', '?')} {attach or '—'}"
        text += f" mac {mac.get('address') if mac is not None else '—'}"
        text += f" model {model.get('type') if model is not None else '—'}"
        lines.append(ConfigLine("nic", text))
    os_node = root.find("os")
    if os_node is not None:
        boot = [b.get("dev", "?") for b in os_node.iter("boot")]
        kernel = os_node.findtext("kernel")
        text = ", ".join(boot) if boot else "—"
        lines.append(ConfigLine("boot", text + (f" · kernel {kernel}" if kernel else "")))
    shown = "—" if autostart is None else ("on" if autostart else "off")
    lines.append(ConfigLine("autostart", shown))
    return lines


@fleet_operation()
async def domain_xml(console: Console, vm: str) -> str:
    """The VM's domain XML as its host prints it now (read-only)."""
    console.vm(vm)
    try:
        return await console.driver.domain_xml(vm)
    except DriverError as exc:
        raise Refused(str(exc)) from exc


@fleet_operation(Action.VM_AUTOSTART)
async def set_autostart(console: Console, vm: str, on: bool) -> Vm:
    """Start the VM with its host, or not: audited (vm.autostart)."""

    async def work() -> Vm:
        console.vm(vm)
        await console.driver.set_autostart(vm, on)
        return await console.refresh_vm(vm)

    return await console.change(Action.VM_AUTOSTART, vm, {"on": on}, work)
