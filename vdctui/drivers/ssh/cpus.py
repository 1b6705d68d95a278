"""Cores on a real host: `virsh capabilities` topology, `vcpupin`/`emulatorpin` lines and
their answers.

The host's reserved CPUs are named from the inventory's `reserved_cpus` count the same way
the emulator names them: the first whole cores of NUMA node 0 covering that many CPUs.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING

from vdctui.drivers.base import InvalidOperation
from vdctui.drivers.ssh.commands import virsh
from vdctui.drivers.ssh.parsers import VirshOutputError
from vdctui.model import CpuTopology, NumaNode, Vm, VmState

if TYPE_CHECKING:
    from vdctui.drivers.ssh.inventory import InventoryHost
    from vdctui.drivers.ssh.pool import Completed, ConnectionPool

SOURCE = "virsh capabilities"
MAX_CPU = 65535


def parse_cpu_list(text: str) -> tuple[int, ...]:
    """`0-3,8` -> (0, 1, 2, 3, 8): the way libvirt writes CPU lists."""
    cpus: list[int] = []
    for part in text.strip().split(","):
        low, sep, high = part.strip().partition("-")
        try:
            first, last = int(low), int(high) if sep else int(low)
        except ValueError:
            raise VirshOutputError(f"not a CPU list: {text.strip()[:40]!r}") from None
        if not 0 <= first <= last <= MAX_CPU:
            raise VirshOutputError(f"not a CPU list: {text.strip()[:40]!r}")
        cpus.extend(range(first, last + 1))
    return tuple(cpus)


def cpu_list(cpus: tuple[int, ...] | list[int]) -> str:
    return ",".join(str(int(c)) for c in sorted(set(cpus)))


def parse_capabilities(host: str, xml: str, reserved_count: int = 0) -> CpuTopology:
    """The `<host><topology>` of `virsh capabilities`: cells, their memory, their CPUs
    grouped into cores by (socket, die, core)."""
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as exc:
        raise VirshOutputError(f"capabilities are not XML: {exc}") from None
    cells = root.findall("./host/topology/cells/cell")
    if not cells:
        raise VirshOutputError("capabilities list no NUMA cell")
    nodes: list[NumaNode] = []
    for cell in cells:
        try:
            memory = cell.find("memory")
            kib = int(memory.text or "") if memory is not None else None
            cores: dict[tuple[str, str, str], list[int]] = {}
            for cpu in cell.findall("./cpus/cpu"):
                key = (cpu.get("socket_id", ""), cpu.get("die_id", ""), cpu.get("core_id", ""))
                cores.setdefault(key, []).append(int(cpu.get("id", "")))
            node_id = int(cell.get("id", ""))
        except ValueError:
            raise VirshOutputError("a NUMA cell of the capabilities has a bad number") from None
        grouped = sorted((tuple(sorted(c)) for c in cores.values()), key=lambda c: c[0])
        unit = (memory.get("unit", "KiB") if memory is not None else "KiB").lower()
        mib = None if kib is None else (kib // 1024 if unit == "kib" else kib)
        nodes.append(NumaNode(node_id, tuple(grouped), mib))
    nodes.sort(key=lambda n: n.id)
    reserved: list[int] = []
    for core in nodes[0].cores:
        if len(reserved) >= reserved_count:
            break
        reserved.extend(core)
    return CpuTopology(host, tuple(nodes), tuple(sorted(reserved)), SOURCE)


def parse_vcpupin(text: str) -> tuple[tuple[int, ...], ...]:
    """`virsh -q vcpupin DOMAIN`: one ` VCPU   CPULIST` line per vCPU."""
    rows: dict[int, tuple[int, ...]] = {}
    for line in text.splitlines():
        words = line.split()
        if not words or not words[0].isdigit():
            continue  # a header or a rule when not quiet
        if len(words) != 2:
            raise VirshOutputError(f"not a vcpupin line: {line.strip()[:60]!r}")
        rows[int(words[0])] = parse_cpu_list(words[1])
    return tuple(rows[i] for i in sorted(rows))


def parse_emulatorpin(text: str) -> tuple[int, ...]:
    """`virsh -q emulatorpin DOMAIN`: the CPU list (after `*:` when not quiet)."""
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.strip().startswith("-")]
    if not lines:
        raise VirshOutputError("emulatorpin printed nothing")
    return parse_cpu_list(lines[-1].split(":")[-1])


def vcpupin(uri: str, name: str, vcpu: int, cpus: tuple[int, ...], *, live: bool) -> str:
    flags = ["--live", "--config"] if live else ["--config"]
    return virsh(
        uri, "vcpupin", "--domain", name, "--vcpu", str(int(vcpu)), "--cpulist", cpu_list(cpus),
        *flags,
    )  # fmt: skip


def emulatorpin(uri: str, name: str, cpus: tuple[int, ...], *, live: bool) -> str:
    flags = ["--live", "--config"] if live else ["--config"]
    return virsh(uri, "emulatorpin", "--domain", name, "--cpulist", cpu_list(cpus), *flags)


def query_vcpupin(uri: str, name: str, *, live: bool) -> str:
    return virsh(uri, "vcpupin", "--domain", name, "--live" if live else "--config")


def query_emulatorpin(uri: str, name: str, *, live: bool) -> str:
    return virsh(uri, "emulatorpin", "--domain", name, "--live" if live else "--config")


def numatune(uri: str, name: str, nodes: tuple[int, ...], *, live: bool) -> str:
    """Bind the memory to `nodes`: in the definition with mode strict (`--config`), or in
    the running domain (`--live`: the nodeset only; libvirt 9 refuses to be told the mode
    of a running domain that had none, and strict is what it runs with)."""
    if live:
        return virsh(uri, "numatune", "--domain", name, "--nodeset", cpu_list(nodes), "--live")
    return virsh(
        uri, "numatune", "--domain", name, "--mode", "strict", "--nodeset", cpu_list(nodes),
        "--config",
    )  # fmt: skip


def query_numatune(uri: str, name: str, *, live: bool) -> str:
    return virsh(uri, "numatune", "--domain", name, "--live" if live else "--config")


def parse_numatune(text: str) -> tuple[int, ...]:
    """`virsh numatune DOMAIN`: `numa_nodeset   : 0-1` (empty: not bound)."""
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() == "numa_nodeset":
            return parse_cpu_list(value) if value.strip() else ()
    raise VirshOutputError("numatune printed no numa_nodeset")


def capabilities(uri: str) -> str:
    return virsh(uri, "capabilities")


class SshPinning:
    """`HostDriver`'s cores over SSH (a mixin of SshDriver): topology, pins, affinity."""

    if TYPE_CHECKING:
        pool: ConnectionPool

        def _inv(self, host: str) -> InventoryHost: ...

        async def _locate(self, name: str) -> tuple[InventoryHost, Vm]: ...

        async def _run_change(
            self, inv: InventoryHost, command: str, what: str, vm: str | None = None
        ) -> Completed: ...

    async def _read(self, inv: InventoryHost, command: str, what: str) -> str:
        out = await self.pool.run(inv, command)
        if out.status != 0:
            raise InvalidOperation(f"{what} on host {inv.name} failed: {out.error}")
        return out.stdout

    async def cpu_topology(self, host: str) -> CpuTopology:
        inv = self._inv(host)
        xml = await self._read(inv, capabilities(inv.uri), "Reading the capabilities")
        try:
            return parse_capabilities(host, xml, inv.reserved_cpus)
        except VirshOutputError as exc:
            raise InvalidOperation(f"Host {host}'s capabilities cannot be read: {exc}.") from None

    async def pin_vcpus(
        self, name: str, vcpu_pins: tuple[tuple[int, ...], ...], emulator_pins: tuple[int, ...]
    ) -> None:
        inv, vm = await self._locate(name)
        live = vm.state in (VmState.RUNNING, VmState.PAUSED)
        for vcpu, cpus in enumerate(vcpu_pins):
            command = vcpupin(inv.uri, name, vcpu, cpus, live=live)
            await self._run_change(inv, command, f"Pinning vCPU {vcpu} of VM {name}", vm=name)
        if emulator_pins:
            command = emulatorpin(inv.uri, name, emulator_pins, live=live)
            await self._run_change(inv, command, f"Pinning VM {name}'s emulator", vm=name)

    async def vcpu_affinity(self, name: str) -> tuple[tuple[tuple[int, ...], ...], tuple[int, ...]]:
        inv, vm = await self._locate(name)
        live = vm.state in (VmState.RUNNING, VmState.PAUSED)
        try:
            vcpus = parse_vcpupin(
                await self._read(inv, query_vcpupin(inv.uri, name, live=live), "vcpupin")
            )
            emulator = parse_emulatorpin(
                await self._read(inv, query_emulatorpin(inv.uri, name, live=live), "emulatorpin")
            )
        except VirshOutputError as exc:
            raise InvalidOperation(f"VM {name}'s pins cannot be read: {exc}.") from None
        return vcpus, emulator

    async def bind_memory(self, name: str, nodes: tuple[int, ...]) -> None:
        inv, vm = await self._locate(name)
        what = f"Binding VM {name}'s memory"
        command = numatune(inv.uri, name, nodes, live=False)
        await self._run_change(inv, command, what, vm=name)
        if vm.state in (VmState.RUNNING, VmState.PAUSED):
            await self._run_change(inv, numatune(inv.uri, name, nodes, live=True), what, vm=name)

    async def memory_binding(self, name: str) -> tuple[int, ...]:
        inv, vm = await self._locate(name)
        live = vm.state in (VmState.RUNNING, VmState.PAUSED)
        text = await self._read(inv, query_numatune(inv.uri, name, live=live), "numatune")
        try:
            return parse_numatune(text)
        except VirshOutputError as exc:
            raise InvalidOperation(f"VM {name}'s numatune cannot be read: {exc}.") from None
