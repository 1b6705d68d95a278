"""VM lifecycle, libvirt style: define, start, shutdown, destroy, reboot, suspend, resize."""

from __future__ import annotations

import math
import uuid as uuidlib

from .state import FleetState
from .topology import LOCAL
from .vm import ACTIVE_STATES, CRASHED, IN_SHUTDOWN, PAUSED, RUNNING, SHUT_OFF, Vm
from .workload import WALK_PERIOD_S, next_random, parse_workload, stream_seed

SHUTDOWN_MIN_S = 5.0
SHUTDOWN_MAX_S = 30.0


class VmLifecycle(FleetState):
    """Operations on one VM's life."""

    def vm_uuid(self, name: str) -> str:
        """The VM's uuid: deterministic from the fleet seed and its name."""
        digest = stream_seed(self.seed, "uuid", name).to_bytes(8, "little")
        digest += stream_seed(self.seed, "uuid2", name).to_bytes(8, "little")
        return str(uuidlib.UUID(bytes=digest, version=4))

    def define_vm(
        self,
        name: str,
        host: str,
        *,
        vcpus: int,
        memory_mib: int,
        max_vcpus: int | None = None,
        max_memory_mib: int | None = None,
        disk_gib: float = 20.0,
        datastore: str = "",
        network: str = "",
        pool: str = "",
        workload: str = "constant:0.2",
        dirty_rate: float = 0.0,
        dirty_scales_with_cpu: bool = False,
        uuid: str = "",
        mips: float = 0.0,
    ) -> Vm:
        """Define a shut-off VM on a host; its disk goes on a datastore the host reaches.
        `mips`: its own capacity, so its workload's level is a share of it (see `Vm`)."""
        if not name or any(c.isspace() for c in name):
            raise self.refuse(f"VM name {name!r} must be non-empty and without spaces.")
        if name in self.vms:
            return self._rehome(self.vms[name], host)
        h = self.check_reachable(host)
        max_vcpus = vcpus if max_vcpus is None else max_vcpus
        max_memory_mib = memory_mib if max_memory_mib is None else max_memory_mib
        if vcpus < 1 or memory_mib < 1:
            raise self.refuse(f"VM {name} needs at least 1 vCPU and 1 MiB of memory.")
        if vcpus > max_vcpus or memory_mib > max_memory_mib:
            raise self.refuse(f"VM {name} asks for more vCPUs or memory than its maxima.")
        if max_vcpus > h.usable_cpus:
            raise self.refuse(f"Host {host} has only {h.usable_cpus} usable CPUs for {name}.")
        reach = self.host_datastores(host)
        if not datastore:
            datastore = reach[0] if reach else ""
        if datastore not in reach:
            raise self.refuse(f"Host {host} does not reach datastore {datastore!r}.")
        ds = self.datastores[datastore]
        if disk_gib < 0 or disk_gib > ds.free_gib:
            raise self.refuse(f"Datastore {datastore} has no room for a {disk_gib:g} GiB disk.")
        if network and network not in self.networks:
            raise self.refuse(f"There is no network named {network!r}.")
        wl = parse_workload(workload)
        if wl.kind == "trace" and wl.trace not in self.traces:
            raise self.refuse(f"There is no trace named {wl.trace!r}; add it with add_trace.")
        if dirty_rate < 0:
            raise self.refuse(f"VM {name} cannot have a negative dirty rate.")
        if not 0.0 <= mips < math.inf:
            raise self.refuse(f"VM {name} needs a capacity of 0 MIPS (none of its own) or more.")
        v = Vm(
            name=name,
            uuid=uuid or self.vm_uuid(name),
            host=host,
            vcpus=vcpus,
            memory_mib=memory_mib,
            max_vcpus=max_vcpus,
            max_memory_mib=max_memory_mib,
            disk_gib=float(disk_gib),
            datastore=datastore,
            network=network,
            pool=pool,
            workload=workload,
            dirty_rate=float(dirty_rate),
            dirty_scales_with_cpu=dirty_scales_with_cpu,
            mips=float(mips),
        )
        self._attach(v)
        self.emit("vm.defined", f"VM {name} defined on {host}.", host, name)
        return v

    def _attach(self, v: Vm) -> None:
        """Add a VM object to the inventory and indexes (no checks)."""
        v.wl = parse_workload(v.workload)
        v.rng = stream_seed(self.seed, "vm", v.name)
        v.rng, u = next_random(v.rng)
        if v.wl.kind == "trace" and v.wl.trace in self.traces:
            t = self.traces[v.wl.trace]
            v.trace_offset = 0.0 if t.aligned else u * len(t.values) * t.interval_s
        self.vms[v.name] = v
        self.hosts[v.host].vm_names[v.name] = None
        self.datastores[v.datastore].used_gib += v.disk_gib
        self.touch("vm", v.name)

    def move_stopped_vm(self, name: str, host: str) -> Vm:
        """Move a shut-off VM's definition to another host that reaches its disk (what
        `virsh define` on the target, then `virsh undefine` on the source, amount to)."""
        v = self.vm(name)
        if v.state != SHUT_OFF:
            raise self.refuse(f"VM {name} is {v.state}: only a shut-off VM moves this way.")
        self.check_reachable(v.host)
        h = self.check_reachable(host)
        if v.datastore not in self.host_datastores(host):
            raise self.refuse(f"Host {host} does not reach datastore {v.datastore!r}.")
        if v.max_vcpus > h.usable_cpus:
            raise self.refuse(f"Host {host} has only {h.usable_cpus} usable CPUs for {v.name}.")
        old = self.hosts[v.host]
        del old.vm_names[v.name]
        v.host = host
        h.vm_names[v.name] = None
        self.rehomed_from[v.name] = old.name
        self.touch("vm", v.name)
        self.emit(
            "vm.defined", f"VM {v.name} defined on {host} (moved from {old.name}).", host, name
        )
        return v

    def _rehome(self, v: Vm, host: str) -> Vm:
        """Define an existing VM on another host from its shared disk: allowed only when
        its old host is fenced (powered off or crashed), so two copies can never run."""
        old = self.hosts[v.host]
        if old.state == "up" or v.state not in (SHUT_OFF, CRASHED):
            raise self.refuse(
                f"A VM named {v.name} is already defined (on {v.host}, which is "
                f"{'partitioned, not fenced' if old.partitioned else old.state})."
            )
        h = self.check_reachable(host)
        if v.datastore not in self.host_datastores(host):
            raise self.refuse(f"Host {host} does not reach datastore {v.datastore!r}.")
        if v.max_vcpus > h.usable_cpus:
            raise self.refuse(f"Host {host} has only {h.usable_cpus} usable CPUs for {v.name}.")
        del old.vm_names[v.name]
        v.host = host
        h.vm_names[v.name] = None
        self.rehomed_from[v.name] = old.name
        if v.state == CRASHED:
            self._set_state(v, SHUT_OFF, f"defined on {host} after host {old.name} was fenced")
        self.touch("vm", v.name)
        self.emit(
            "vm.defined", f"VM {v.name} defined on {host} (was on fenced {old.name}).", host, v.name
        )
        return v

    def undefine_vm(self, name: str) -> None:
        v = self.vm(name)
        self.check_reachable(v.host)
        if v.state != SHUT_OFF:
            raise self.refuse(f"VM {name} must be shut off to be undefined (it is {v.state}).")
        self._busy(v)
        home = self.rehomed_from.pop(name, None)
        if home in self.hosts and self.hosts[home].state != "up":
            self._back_home(v, home)
            return
        del self.vms[name]
        del self.hosts[v.host].vm_names[name]
        self.datastores[v.datastore].used_gib -= v.disk_gib
        self.forget("vm", name)
        self.emit("vm.undefined", f"VM {name} undefined.", v.host, name)

    def _back_home(self, v: Vm, home: str) -> None:
        """Undefine the copy an HA restart defined on a new host before it ever started: the
        VM is again only its fenced host's (whose own definition of it was never removed)."""
        here = v.host
        del self.hosts[here].vm_names[v.name]
        v.host = home
        self.hosts[home].vm_names[v.name] = None
        self.touch("vm", v.name)
        self.emit(
            "vm.undefined",
            f"VM {v.name} undefined on {here}; its definition on fenced {home} remains.",
            here,
            v.name,
        )

    def _busy(self, v: Vm) -> None:
        """Refuse a change to a VM with a job in flight, naming the job."""
        m = self.migrations.get(v.name)
        if m is not None:
            raise self.refuse(
                f"VM {v.name} is being migrated from {m.source} to {m.target} "
                f"(migration {m.id}); wait for it to end or abort it first."
            )

    def _set_state(self, v: Vm, state: str, why: str = "") -> None:
        old = v.state
        v.state = state
        if state in (SHUT_OFF, CRASHED):  # its QEMU is gone, and its settings with it
            v.max_downtime_ms = None
        self.touch("vm", v.name)
        if old != state:
            msg = f"VM {v.name} is now {state}" + (f" ({why})." if why else ".")
            self.emit("vm.state", msg, v.host, v.name)

    def _start_workload(self, v: Vm) -> None:
        v.gen += 1
        wl = v.wl
        if wl.kind == "constant":
            v.level = wl.level
        elif wl.kind == "walk":
            v.level = wl.level
            v.rng, u = next_random(v.rng)
            self.schedule_update(v, self.now + WALK_PERIOD_S * (0.05 + 0.95 * u))
        else:
            t = self.traces[wl.trace]
            pos = (self.now + v.trace_offset) / t.interval_s
            v.level = t.values[int(pos) % len(t.values)]
            self.schedule_update(v, (math.floor(pos) + 1) * t.interval_s - v.trace_offset)
        v.cpu_util = self.util_of(v, v.level)

    def _stop_workload(self, v: Vm) -> None:
        v.gen += 1
        v.cpu_util = 0.0
        v.shutdown_at = None

    def start_vm(self, name: str) -> None:
        v = self.vm(name)
        h = self.check_reachable(v.host)
        self._busy(v)
        if v.state not in (SHUT_OFF, CRASHED):
            raise self.refuse(f"VM {name} cannot be started: it is {v.state}.")
        if v.vcpus > h.usable_cpus:
            raise self.refuse(f"Host {h.name} has only {h.usable_cpus} usable CPUs for {name}.")
        free = self.memory_free_mib(h.name)
        if v.memory_mib > free:
            raise self.refuse(
                f"Host {h.name} has {free} MiB free, not enough to start {name} "
                f"({v.memory_mib} MiB)."
            )
        self._run(v)
        self.rehomed_from.pop(name, None)

    def _run(self, v: Vm) -> None:
        self._set_state(v, RUNNING)
        v.started_at = self.now
        self._start_workload(v)
        self.refresh_host(self.hosts[v.host])

    def shutdown_vm(self, name: str) -> None:
        """Ask the guest to shut down: it is "in shutdown" for 5-30 s, then "shut off"."""
        v = self.vm(name)
        self.check_reachable(v.host)
        self._busy(v)
        if v.state != RUNNING:
            raise self.refuse(f"VM {name} cannot be shut down: it is {v.state}, not running.")
        v.rng, u = next_random(v.rng)
        self._set_state(v, IN_SHUTDOWN)
        self.schedule_shutdown(v, self.now + SHUTDOWN_MIN_S + (SHUTDOWN_MAX_S - SHUTDOWN_MIN_S) * u)

    def _power_down(self, v: Vm, state: str = SHUT_OFF, why: str = "") -> None:
        self._stop_workload(v)
        v.started_at = None
        self._set_state(v, state, why)
        self.refresh_host(self.hosts[v.host])

    def destroy_vm(self, name: str) -> None:
        """Pull the plug: the VM is shut off at once (a running migration is aborted)."""
        v = self.vm(name)
        self.check_reachable(v.host)
        if v.state == SHUT_OFF:
            raise self.refuse(f"VM {name} is already shut off.")
        if name in self.migrations:
            self.abort_migration(name)
        self._power_down(v, SHUT_OFF, "destroyed")

    def abort_migration(self, name: str) -> None:  # overridden by the migration mixin
        raise NotImplementedError

    def reboot_vm(self, name: str) -> None:
        v = self.vm(name)
        self.check_reachable(v.host)
        self._busy(v)
        if v.state != RUNNING:
            raise self.refuse(f"VM {name} cannot be rebooted: it is {v.state}, not running.")
        v.started_at = self.now
        self.touch("vm", name)
        self.emit("vm.reboot", f"VM {name} rebooted.", v.host, name)

    def suspend_vm(self, name: str) -> None:
        v = self.vm(name)
        self.check_reachable(v.host)
        self._busy(v)
        if v.state != RUNNING:
            raise self.refuse(f"VM {name} cannot be suspended: it is {v.state}, not running.")
        v.gen += 1
        v.cpu_util = 0.0
        self._set_state(v, PAUSED)
        self.refresh_host(self.hosts[v.host])

    def resume_vm(self, name: str) -> None:
        v = self.vm(name)
        self.check_reachable(v.host)
        self._busy(v)
        if v.state != PAUSED:
            raise self.refuse(f"VM {name} cannot be resumed: it is {v.state}, not paused.")
        self._set_state(v, RUNNING)
        self._start_workload(v)
        self.refresh_host(self.hosts[v.host])

    def set_vcpus(self, name: str, vcpus: int) -> None:
        """Change the vCPU count (live if the VM runs) within its maximum and the host's CPUs."""
        v = self.vm(name)
        h = self.check_reachable(v.host)
        self._busy(v)
        if vcpus < 1 or vcpus > v.max_vcpus:
            raise self.refuse(f"VM {name} can have 1 to {v.max_vcpus} vCPUs, not {vcpus}.")
        if vcpus > h.usable_cpus:
            raise self.refuse(f"Host {h.name} has only {h.usable_cpus} usable CPUs for {name}.")
        v.vcpus = vcpus
        self.touch("vm", name)
        self.refresh_host(h)
        self.emit("vm.resize", f"VM {name} now has {vcpus} vCPUs.", h.name, name)

    def set_memory(self, name: str, memory_mib: int) -> None:
        """Change memory (live if the VM runs) within its maximum and the host's free memory."""
        v = self.vm(name)
        h = self.check_reachable(v.host)
        self._busy(v)
        if memory_mib < 1 or memory_mib > v.max_memory_mib:
            raise self.refuse(
                f"VM {name} can have 1 to {v.max_memory_mib} MiB of memory, not {memory_mib}."
            )
        if v.state in ACTIVE_STATES:
            free = self.memory_free_mib(h.name) + v.memory_mib
            if memory_mib > free:
                raise self.refuse(
                    f"Host {h.name} has only {free} MiB for {name}, not {memory_mib} MiB."
                )
        v.memory_mib = memory_mib
        self.touch("vm", name)
        self.emit("vm.resize", f"VM {name} now has {memory_mib} MiB of memory.", h.name, name)

    def local_datastore(self, host: str) -> str | None:
        name = self._host_local.get(host)
        return name if name and self.datastores[name].kind == LOCAL else None
