"""The one interface the console uses to reach hypervisor hosts.

`HostDriver` is implemented by the emulated driver (in-process fleet) and by
the SSH driver (asyncssh + virsh). Both pass `tests/drivers/contract.py`.
A driver is the truth about what runs now; it keeps no history.
"""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator, Callable, Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING

from vdctui.model import (
    CpuComparison,
    CpuContention,
    CpuPins,
    CpuTopology,
    DuplicateDefinition,
    FleetEvent,
    FlowCounts,
    FlowRecord,
    Host,
    HostNetworks,
    MigrationOptions,
    MigrationProgress,
    MigrationResult,
    Snapshot,
    Topology,
    Vm,
    VmFirewall,
    VmSpec,
)

if TYPE_CHECKING:
    from vdctui.drivers.adc.base import AdcDriver
    from vdctui.drivers.serial import SerialChannel
    from vdctui.drivers.simulation import Simulation


class DriverError(Exception):
    """A driver could not do what it was asked. The message is one sentence."""


class HostUnreachable(DriverError):
    """The host does not answer (down, partitioned, or SSH failed)."""


class NoSuchVm(DriverError):
    pass


class NoSuchHost(DriverError):
    pass


class InvalidOperation(DriverError):
    """The hypervisor refused: wrong state, over a maximum, no capacity, ..."""


class FenceNotConfirmed(DriverError):
    """A fence was tried but the host was not proven powered off: restart nothing elsewhere."""


class MigrationHandle(abc.ABC):
    """A running migration: progress samples, abort, and its final result."""

    vm: str
    source: str
    target: str

    @abc.abstractmethod
    def progress(self) -> MigrationProgress:
        """The latest sample (does not wait)."""

    @abc.abstractmethod
    def updates(self) -> AsyncIterator[MigrationProgress]:
        """Samples as they come, ending when the migration ends."""

    @abc.abstractmethod
    async def abort(self) -> None:
        """Ask the hypervisor to abort; `wait()` then reports CANCELLED."""

    @abc.abstractmethod
    async def wait(self) -> MigrationResult:
        """Wait for the end; never raises for a failed migration, says so."""


@dataclass(frozen=True, slots=True)
class FleetChanges:
    """The hosts and VMs (by name) that changed, appeared or went since a version of a
    driver's change feed; figures that move all the time (CPU, power) are not changes."""

    version: int  # the feed's version now: ask since this one next time
    hosts: frozenset[str]
    vms: frozenset[str]


class HostDriver(abc.ABC):
    """The console's connection to its fleet of hypervisor hosts."""

    backend: str = "abstract"  # "emulated" | "ssh"

    # --- reads ---
    @abc.abstractmethod
    async def topology(self) -> Topology: ...

    @abc.abstractmethod
    async def list_hosts(self) -> list[Host]:
        """Every host with its facts and current stats; down ones say why."""

    @abc.abstractmethod
    async def list_vms(self, host: str | None = None) -> list[Vm]:
        """Every VM on reachable hosts (or one host's), with stats."""

    @abc.abstractmethod
    async def get_vm(self, name: str) -> Vm: ...

    # --- lifecycle ---
    @abc.abstractmethod
    async def define(self, spec: VmSpec, host: str) -> Vm: ...

    async def define_again(self, spec: VmSpec, host: str) -> Vm:
        """Define on `host` a VM whose host was fenced (HA): from the definition the driver
        saved of it where it keeps one, else as `define` does."""
        return await self.define(spec, host)

    @abc.abstractmethod
    async def undefine(self, name: str) -> None: ...

    @abc.abstractmethod
    async def start(self, name: str) -> None: ...

    @abc.abstractmethod
    async def shutdown(self, name: str) -> None:
        """Ask the guest to shut down; it takes time (state SHUTTING_DOWN)."""

    @abc.abstractmethod
    async def destroy(self, name: str) -> None: ...

    @abc.abstractmethod
    async def reboot(self, name: str) -> None: ...

    @abc.abstractmethod
    async def suspend(self, name: str) -> None: ...

    @abc.abstractmethod
    async def resume(self, name: str) -> None: ...

    # --- resize ---
    @abc.abstractmethod
    async def set_vcpus(self, name: str, vcpus: int) -> None: ...

    @abc.abstractmethod
    async def set_memory(self, name: str, memory_mib: int) -> None: ...

    # --- migration ---
    @abc.abstractmethod
    async def migrate(
        self,
        name: str,
        target: str,
        *,
        live: bool = True,
        copy_storage: bool = False,
        auto_converge: bool = False,
        options: MigrationOptions | None = None,
        pins: CpuPins | None = None,
    ) -> MigrationHandle:
        """Start a migration; refusals (target down, no shared storage, an option this
        driver does not do) raise. `options`, when given, wins over the two flags. `pins`:
        the VM's CPU pins and memory binding on the target, carried in the definition it
        arrives with (so it never runs there on its source's CPUs)."""

    async def check_migration_options(  # noqa: B027 - a driver that refuses none
        self, source: str, options: MigrationOptions
    ) -> None:
        """Raise InvalidOperation (one sentence) when a migration from `source` cannot use
        `options` here: asked before a migration's task exists, so a refusal changes nothing."""

    # --- snapshots (vdctui.ops.snapshots; a driver without them refuses, saying so) ---
    async def list_snapshots(self, vm: str) -> list[Snapshot]:
        raise InvalidOperation(f"This {self.backend} driver cannot list snapshots of {vm}.")

    async def create_snapshot(
        self,
        vm: str,
        name: str,
        *,
        description: str = "",
        disk_only: bool = False,
        on_progress: Callable[[float], None] | None = None,
    ) -> Snapshot:
        """Take a snapshot; `on_progress(0..1)` while it takes time, where the host says."""
        raise InvalidOperation(f"This {self.backend} driver cannot snapshot {vm}.")

    async def revert_snapshot(self, vm: str, name: str) -> None:
        raise InvalidOperation(f"This {self.backend} driver cannot revert {vm} to a snapshot.")

    async def delete_snapshot(self, vm: str, name: str) -> None:
        raise InvalidOperation(f"This {self.backend} driver cannot delete snapshots of {vm}.")

    # --- isolation (libvirt nwfilter; the emulator models flows) ---
    async def set_firewall(self, firewall: VmFirewall) -> None:
        """Filter the VM's interface by these rules from now on (live), or not at all."""
        raise InvalidOperation(f"This {self.backend} driver cannot filter VM {firewall.vm}.")

    async def prepare_firewall(self, host: str, firewall: VmFirewall) -> None:  # noqa: B027
        """Make the VM's filters known on `host` before the VM moves there (libvirt
        instantiates them on arrival); a driver without filters has nothing to do."""

    async def forget_firewall_group(self, group: str) -> None:  # noqa: B027
        """A deleted group's filter is no longer needed where it was defined (no VM's
        filter references it any more); a driver without filters has nothing to do."""

    async def flow_counts(self) -> FlowCounts:
        """Flows allowed and dropped per VM and per rule, as the hypervisor counted them."""
        raise InvalidOperation(f"This {self.backend} driver does not count flows.")

    async def flow_records(self, since: float) -> list[FlowRecord]:
        """Flow records (virtual or wall time `since`), oldest first, for detection."""
        raise InvalidOperation(f"This {self.backend} driver keeps no flow records.")

    def cpu_contention(self, host: str) -> CpuContention | None:
        """What the host's VMs wait for its CPUs, as last measured (no I/O); None: this
        driver does not measure it, or the host does not answer."""
        return None

    # --- dedicated cores (`virsh capabilities`, `vcpupin`, `emulatorpin`) ---
    async def cpu_topology(self, host: str) -> CpuTopology:
        """The host's NUMA nodes, cores, threads and the CPUs it keeps for itself."""
        raise InvalidOperation(f"This {self.backend} driver cannot read host {host}'s cores.")

    async def pin_vcpus(
        self, name: str, vcpu_pins: tuple[tuple[int, ...], ...], emulator_pins: tuple[int, ...]
    ) -> None:
        """Pin vCPU i to the CPUs vcpu_pins[i] (one each: dedicated) and QEMU's own threads
        to `emulator_pins`, live (when it runs) and in its definition."""
        raise InvalidOperation(f"This {self.backend} driver cannot pin VM {name}'s vCPUs.")

    async def vcpu_affinity(self, name: str) -> tuple[tuple[tuple[int, ...], ...], tuple[int, ...]]:
        """Each vCPU's allowed CPUs and the emulator's, as the hypervisor says now."""
        raise InvalidOperation(f"This {self.backend} driver cannot read VM {name}'s pins.")

    async def set_reserved_cpus(self, host: str, cpus: tuple[int, ...]) -> None:  # noqa: B027
        """The CPUs `host` keeps for itself (the console pins no VM's vCPU there and puts
        QEMU's own threads there). A real host keeps no such list: it is the console's
        (isolating them in the host's kernel, isolcpus or systemd's CPUAffinity, is not
        done here), so there is nothing to tell it."""

    async def bind_memory(self, name: str, nodes: tuple[int, ...]) -> None:
        """Bind the VM's memory to these NUMA nodes (`<numatune>`, mode strict), live (when
        it runs) and in its definition."""
        raise InvalidOperation(f"This {self.backend} driver cannot bind VM {name}'s memory.")

    async def memory_binding(self, name: str) -> tuple[int, ...]:
        """The NUMA nodes the VM's memory is bound to now (empty: not bound)."""
        raise InvalidOperation(f"This {self.backend} driver cannot read VM {name}'s numatune.")

    # --- configuration (vdctui.ops.preflight, vdctui.ops.config) ---
    async def domain_xml(self, vm: str) -> str:
        """The VM's libvirt domain XML, as `virsh dumpxml` prints it."""
        raise InvalidOperation(f"This {self.backend} driver cannot show {vm}'s configuration.")

    async def set_autostart(self, vm: str, on: bool) -> None:
        """Start the VM with its host (libvirt's autostart), or not."""
        raise InvalidOperation(f"This {self.backend} driver cannot change {vm}'s autostart.")

    async def duplicate_definitions(self) -> list[DuplicateDefinition]:
        """VMs defined on more than one host (never while one migrates between them)."""
        return []

    async def compare_cpu(self, domain_xml: str, target: str) -> CpuComparison | None:
        """Whether `target`'s hypervisor can run the CPU `domain_xml` defines; None: this
        driver cannot compare CPUs (the pre-flight check compares host models then)."""
        return None

    # --- the change feed (a driver without one is read whole at every sync) ---
    def change_version(self) -> int | None:
        """The version of the driver's change feed now; None: it keeps none."""
        return None

    async def changed_since(self, version: int) -> FleetChanges | None:
        """What changed since `version`; None when the driver cannot say (no feed, it
        overflowed, or a change of the topology): then read everything."""
        return None

    async def read_hosts(self, names: Collection[str]) -> list[Host]:
        """The named hosts that exist, as `list_hosts` gives them."""
        return [host for host in await self.list_hosts() if host.name in names]

    async def read_vms(self, names: Collection[str]) -> list[Vm]:
        """The named VMs that exist on reachable hosts, as `list_vms` gives them."""
        return [vm for vm in await self.list_vms() if vm.name in names]

    def known_duplicates(self) -> list[DuplicateDefinition]:
        """The duplicate definitions the driver's last reads of the hosts showed (no read)."""
        return []

    async def undefine_copy(self, vm: str, host: str) -> None:
        """Undefine the shut-off copy of `vm` on `host` (one of its duplicate definitions)."""
        raise InvalidOperation(f"This {self.backend} driver has no second copy of {vm} to remove.")

    async def host_networks(self, host: str) -> HostNetworks | None:
        """The networks and interfaces a host offers a VM's NICs; None: it cannot say."""
        return None

    # --- the VM's serial console (vdctui.ops.serial_console) ---
    async def open_console(
        self, vm: str, size: tuple[int, int] = (80, 24), term: str = "xterm"
    ) -> SerialChannel:
        """`virsh console VM` on its host, on a terminal of `size` (columns, rows)."""
        raise InvalidOperation(f"This {self.backend} driver cannot open {vm}'s console.")

    # --- host power (out-of-band: IPMI/BMC on real hosts) ---
    async def power_off_host(self, name: str) -> None:
        """Power a host off (it must hold no running VMs: the caller checks)."""
        raise InvalidOperation(f"This {self.backend} driver cannot power host {name} off.")

    async def power_on_host(self, name: str) -> None:
        raise InvalidOperation(f"This {self.backend} driver cannot power host {name} on.")

    async def power_cycle_host(self, name: str) -> None:
        raise InvalidOperation(f"This {self.backend} driver cannot power-cycle host {name}.")

    async def force_off_host(self, name: str) -> None:
        """Cut a host's power at once (no guest shutdown); defaults to power_off_host."""
        await self.power_off_host(name)

    async def fence_host(self, name: str) -> str:
        """Cut a failed host's power and confirm it is off; returns how it was confirmed.

        Raises FenceNotConfirmed when it was tried but not confirmed."""
        await self.power_off_host(name)
        return f"host {name} is powered off"

    # --- growth (emulated: a new server in a rack; real hosts join through the inventory) ---
    async def add_host(self, rack: str, model: str | None = None) -> Host:
        """Take a new host into `rack`, powered on and empty; refused with the reason."""
        raise InvalidOperation(
            f"This {self.backend} driver cannot add hosts: add the host to the inventory "
            "file, then restart the console or :reload."
        )

    async def remove_host(self, name: str) -> None:
        """Take an empty host out; refused (naming its VMs) when it holds any."""
        raise InvalidOperation(
            f"This {self.backend} driver cannot remove hosts: take the host out of the "
            "inventory file."
        )

    def adc(self) -> AdcDriver | None:
        """The load balancer in front of this fleet's VMs, if there is one."""
        return None

    def simulation(self) -> Simulation | None:
        """The simulation this fleet is (its own clock, injected attacks), or None: real
        hosts, whose time is the wall clock's."""
        return None

    # --- events ---
    @abc.abstractmethod
    def events(self) -> AsyncIterator[FleetEvent]:
        """Fleet events as they happen (state changes, crashes, ...)."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections and background work."""
