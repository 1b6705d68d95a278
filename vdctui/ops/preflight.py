"""The pre-flight check of a migration, run before every migration (and alone with
`vdctui vm migrate ... --check`): CPU compatibility, storage (shared, or copied),
the VM's networks on the target, memory and CPU room after the pool's overcommit,
and what blocks a live migration (snapshots, passthrough devices). Each check
passes, warns or fails with its reason; a failed check refuses the migration
unless the operator forces it.

Also: the migration options an operator can choose, each in one line.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING

from vdctui.drivers.base import DriverError, HostDriver, InvalidOperation
from vdctui.model import CpuComparison, Host, HostNetworks, MigrationKind, MigrationOptions, Vm
from vdctui.ops import placement, scheduling
from vdctui.ops.errors import Refused
from vdctui.ops.handover import fleet_operation

if TYPE_CHECKING:
    from vdctui.ops.console import Console

OPTION_HELP = {
    "copy_storage": "copy the disks too (full, or incremental over a base image both hosts "
    "share) when the target does not reach the VM's datastore",
    "compressed": "compress memory pages that are sent again (less bandwidth, more CPU)",
    "auto_converge": "slow the guest's vCPUs down when it dirties memory faster than the "
    "link sends it, so the migration ends",
    "postcopy": "after one pass, run the VM on the target and pull the pages left from the "
    "source (ends surely; a link failure then loses the VM)",
    "bandwidth_mib_s": "cap the migration's bandwidth, in MiB/s (spares the link for others)",
    "max_downtime_ms": "the longest pause allowed for the final stop-and-copy, in ms",
    "tunnelled": "carry the data inside libvirtd's own connection (one port, encrypted by "
    "SSH; slower)",
}
COPY_STORAGE = ("", "full", "incremental")


class Verdict(enum.StrEnum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True, slots=True)
class Check:
    name: str  # cpu | storage | network | room | snapshots | devices
    verdict: Verdict
    reason: str


@dataclass(frozen=True, slots=True)
class Preflight:
    vm: str
    source: str
    target: str
    kind: MigrationKind
    checks: tuple[Check, ...]

    @property
    def verdict(self) -> Verdict:
        verdicts = {c.verdict for c in self.checks}
        for worst in (Verdict.FAIL, Verdict.WARN):
            if worst in verdicts:
                return worst
        return Verdict.PASS

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if c.verdict is Verdict.FAIL]

    def refusal(self) -> str:
        """One sentence: why the migration is refused (every failed check)."""
        why = "; ".join(f"{c.name}: {c.reason}" for c in self.failed)
        return (
            f"The pre-flight check of moving {self.vm} to {self.target} failed ({why}); "
            "fix it, or force the migration."
        )


def check_options(options: MigrationOptions) -> MigrationOptions:
    """Refuse options that contradict themselves or are out of range (one sentence)."""
    if options.copy_storage not in COPY_STORAGE:
        raise Refused(f"Copy storage is full or incremental, not {options.copy_storage!r}.")
    if options.bandwidth_mib_s is not None and not 1 <= options.bandwidth_mib_s <= 1_000_000:
        raise Refused("A bandwidth limit is from 1 to 1,000,000 MiB/s.")
    if options.max_downtime_ms is not None and not 1 <= options.max_downtime_ms <= 600_000:
        raise Refused("A max downtime is from 1 to 600,000 ms.")
    return options


# --- the checks, each a pure function ----------------------------------------------------


def cpu_check(
    source: Host | None, target: Host, compared: CpuComparison | None = None, vm: str = "the VM"
) -> Check:
    """libvirt's comparison of the VM's CPU with the target's hypervisor when the driver
    made one (real hosts); else the hosts' models compared (the emulator)."""
    if compared is not None and compared.compatible:
        how = "the same CPU" if compared.detail == "identical" else "a superset of it"
        return Check("cpu", Verdict.PASS, f"{target.name}'s hypervisor offers {how} of {vm}'s")
    if compared is not None:
        return Check("cpu", Verdict.FAIL, f"{target.name} cannot run {vm}'s CPU: {compared.detail}")
    if source is None or not source.model or not target.model:
        return Check("cpu", Verdict.WARN, "the hosts' CPU models are not known")
    if source.model == target.model:
        return Check("cpu", Verdict.PASS, f"same host model ({source.model})")
    return Check(
        "cpu",
        Verdict.WARN,
        f"{source.name} is {source.model}, {target.name} is {target.model}: a guest with a "
        "host-passthrough CPU may not run there (libvirt checks it when the migration starts)",
    )


def disk_count(xml: str | None) -> int | None:
    """How many disks (not CD-ROMs) the domain XML has; None when it cannot be read."""
    import xml.etree.ElementTree as ET  # not before the console's first frame

    try:
        root = ET.fromstring(xml) if xml else None
    except ET.ParseError:
        return None
    if root is None:
        return None
    return sum(1 for d in root.iter("disk") if d.get("device", "disk") == "disk")


def storage_check(
    vm: Vm, target: Host, options: MigrationOptions, disks: int | None = None, *, cold: bool = False
) -> Check:
    copy = options.copy_storage
    if disks == 0:
        return Check("storage", Verdict.PASS, f"{vm.name} has no disk to move")
    if vm.datastore and vm.datastore in target.datastores:
        if copy:
            return Check(
                "storage",
                Verdict.WARN,
                f"{target.name} reaches {vm.datastore} already; copying the disks is not needed",
            )
        return Check("storage", Verdict.PASS, f"shared datastore {vm.datastore}")
    if copy:
        size = f"{vm.disk_gib:g} GiB" if vm.disk_gib else "its disks"
        return Check("storage", Verdict.PASS, f"{size} copied to {target.name} ({copy} copy)")
    if not vm.datastore:
        return Check(
            "storage",
            Verdict.WARN,
            f"where {vm.name}'s disks are is not known: {target.name} must reach them "
            "(shared storage), else copy them",
        )
    if cold:
        return Check(
            "storage",
            Verdict.WARN,
            f"{target.name} does not reach datastore {vm.datastore}: the disks move with it "
            "(or must be copied there first, where the hosts cannot copy them)",
        )
    return Check(
        "storage",
        Verdict.FAIL,
        f"{target.name} does not reach datastore {vm.datastore}: copy storage moves the disks",
    )


def network_check(vm: Vm, target: str, offered: HostNetworks | None) -> Check:
    wanted = [(n.kind, n.source) for n in vm.nics] or (
        [("network", vm.network)] if vm.network else []
    )
    if not wanted:
        return Check("network", Verdict.PASS, f"{vm.name} has no NIC")
    if offered is None:
        return Check("network", Verdict.WARN, f"{target} cannot say which networks it has")
    missing, unknown = [], []
    for kind, source in wanted:
        if kind == "network" and source not in offered.networks:
            missing.append(f"network {source}")
        elif kind == "bridge" and source not in offered.networks:  # a bridged network, or
            if offered.interfaces is None:  # a host bridge
                unknown.append(f"bridge {source}")
            elif source not in offered.interfaces:
                missing.append(f"network or bridge {source}")
    if missing:
        return Check("network", Verdict.FAIL, f"{', '.join(missing)} not on {target}")
    if unknown:
        return Check("network", Verdict.WARN, f"{target} cannot say if it has {unknown[0]}")
    names = ", ".join(sorted({s for _, s in wanted}))
    return Check("network", Verdict.PASS, f"{names} on {target}")


def snapshots_check(count: int | None, kind: MigrationKind) -> Check:
    if count is None:
        return Check("snapshots", Verdict.WARN, "its snapshots could not be listed")
    if count == 0:
        return Check("snapshots", Verdict.PASS, "no snapshots")
    plural = "s" if count != 1 else ""
    why = "libvirt refuses to live-migrate it" if kind is MigrationKind.LIVE else "they stay behind"
    return Check(
        "snapshots", Verdict.FAIL, f"it has {count} snapshot{plural}: {why}; delete them first"
    )


def devices_check(xml: str | None) -> Check:
    if xml is None:
        return Check("devices", Verdict.WARN, "its configuration could not be read")
    import xml.etree.ElementTree as ET  # not before the console's first frame

    try:
        root = ET.fromstring(xml)
    except ET.ParseError:
        return Check("devices", Verdict.WARN, "its configuration is not XML the console reads")
    blocking = [f"a {d.get('type', 'host')} passthrough device" for d in root.iter("hostdev")]
    if blocking:
        return Check("devices", Verdict.FAIL, f"{blocking[0]} cannot move with a running VM")
    media = [
        d.find("source")
        for d in root.iter("disk")
        if d.get("device") in ("cdrom", "floppy") and d.find("source") is not None
    ]
    files = [m.get("file", "") for m in media if m is not None and m.get("file")]
    if files:
        return Check("devices", Verdict.WARN, f"{files[0]} must exist on the target too")
    if any(True for _ in root.iter("filesystem")):
        return Check("devices", Verdict.WARN, "a shared filesystem may block the migration")
    return Check("devices", Verdict.PASS, "nothing that blocks a migration")


async def _compare_cpu(driver: HostDriver, xml: str, target: str) -> CpuComparison | None:
    try:
        return await driver.compare_cpu(xml, target)
    except DriverError:
        return None


async def unsupported_options(console: Console, vm: Vm, options: MigrationOptions) -> str:
    """Why the hosts cannot migrate `vm` with `options` ("" when they can)."""
    if vm.host is None:
        return ""
    try:
        await console.driver.check_migration_options(vm.host, options)
    except InvalidOperation as exc:
        return str(exc)
    return ""


# --- the check as a whole ------------------------------------------------------------------


def room_check(console: Console, vm: Vm, target: Host, kind: MigrationKind) -> Check:
    if kind is MigrationKind.COLD:
        return Check("room", Verdict.PASS, "a shut-off VM holds no CPU or memory there")
    reason = scheduling.placement_for(console.store, vm).why_not(target.name)
    if reason:
        return Check("room", Verdict.FAIL, reason)
    held = placement.allocations(console.store.vms(host=target.name)).get(
        target.name, placement.Allocation()
    )
    ratios = placement.Ratios.of(console.store.pool(vm.pool) if vm.pool else None)
    free = target.usable_memory_mib * ratios.memory - held.memory_mib
    vcpus = placement.vcpus_free(float(target.usable_cpus), float(held.vcpus), ratios.cpu)
    return Check(
        "room",
        Verdict.PASS,
        f"{free:.0f} MiB and {vcpus:g} vCPUs free after overcommit "
        f"({ratios.memory:g}x memory, {ratios.cpu:g}x CPU); {vm.memory_mib} MiB, "
        f"{vm.vcpus} vCPUs needed",
    )


@fleet_operation()
async def check(
    console: Console,
    name: str,
    target: str,
    *,
    cold: bool = False,
    options: MigrationOptions | None = None,
) -> Preflight:
    """Every check of moving `name` to `target`, asking the hosts what they know now."""
    options = check_options(options or MigrationOptions())
    vm = console.vm(name)
    to = console.host(target)
    kind = MigrationKind.COLD if cold else MigrationKind.LIVE
    source = console.store.host(vm.host) if vm.host else None
    driver = console.driver
    try:
        count: int | None = len(await driver.list_snapshots(name))
    except DriverError:
        count = None
    try:
        xml: str | None = await driver.domain_xml(name)
    except DriverError:
        xml = None
    try:
        offered = await driver.host_networks(target)
    except DriverError:
        offered = None
    # a shut-off VM's XML names its CPU model unexpanded: libvirt adjusts it when it starts
    compared = await _compare_cpu(driver, xml, target) if xml and not cold else None
    refused = await unsupported_options(console, vm, options)
    checks = (
        *([Check("options", Verdict.FAIL, refused)] if refused else []),
        cpu_check(source, to, compared, name),
        storage_check(vm, to, options, disk_count(xml), cold=cold),
        network_check(vm, target, offered),
        room_check(console, vm, to, kind),
        snapshots_check(count, kind),
        devices_check(xml),
    )
    return Preflight(name, vm.host or "", target, kind, checks)


async def enforce(
    console: Console,
    name: str,
    target: str,
    *,
    cold: bool,
    options: MigrationOptions,
    force: bool,
) -> Preflight:
    """The check before a migration: refused (one sentence) when a check fails, unless forced;
    options the hosts cannot use are refused even when forced."""
    refused = await unsupported_options(console, console.vm(name), options)
    if refused:
        raise Refused(refused)
    report = await check(console, name, target, cold=cold, options=options)
    if report.failed and not force:
        raise Refused(report.refusal())
    return report
