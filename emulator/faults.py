"""Injected faults: host crash, power off/on, network partition, slow links, failed migrations."""

from __future__ import annotations

from .migrations import MigrationOps
from .topology import HOST_CRASHED, HOST_OFF, HOST_UP
from .vm import ACTIVE_STATES, CRASHED, SHUT_OFF


class FaultOps(MigrationOps):
    """Ways to break the fleet on purpose."""

    def _set_host_state(self, name: str, state: str, why: str) -> None:
        h = self.host(name)
        h.state = state
        self.touch("host", name)
        self.refresh_host(h)
        self.emit("host.state", f"Host {name} is now {state} ({why}).", name)

    def crash_host(self, name: str) -> None:
        """The host dies: its VMs become "crashed" and stay assigned to it."""
        h = self.host(name)
        if h.state != HOST_UP:
            raise self.refuse(f"Host {name} is not up, so it cannot crash (it is {h.state}).")
        self.fail_migrations_of(name, f"Host {name} crashed during the migration.")
        for v in self.vms_on(name):
            if v.state in ACTIVE_STATES:
                self._power_down(v, CRASHED, f"host {name} crashed")
        self.host_failures += 1
        self._set_host_state(name, HOST_CRASHED, "fault injected: crash")

    def power_off_host(self, name: str) -> None:
        """Cut the host's power: its VMs are shut off."""
        h = self.host(name)
        if h.state == HOST_OFF:
            raise self.refuse(f"Host {name} is already powered off.")
        self.fail_migrations_of(name, f"Host {name} was powered off during the migration.")
        for v in self.vms_on(name):
            if v.state != SHUT_OFF:
                self._power_down(v, SHUT_OFF, f"host {name} powered off")
        self._set_host_state(name, HOST_OFF, "powered off")

    def power_on_host(self, name: str) -> None:
        """Boot the host again; VMs left crashed on it are shut off."""
        h = self.host(name)
        if h.state == HOST_UP:
            raise self.refuse(f"Host {name} is already up.")
        for v in self.vms_on(name):
            if v.state == CRASHED:
                self._set_state(v, SHUT_OFF, f"host {name} rebooted")
        self._set_host_state(name, HOST_UP, "powered on")

    def partition_host(self, name: str, partitioned: bool = True) -> None:
        """Cut the host off the management network (its VMs keep running), or heal it."""
        h = self.host(name)
        if h.partitioned == partitioned:
            return
        h.partitioned = partitioned
        self.touch("host", name)
        if partitioned:
            self.fail_migrations_of(name, f"Host {name} became unreachable during the migration.")
            self.emit("fault.partition", f"Host {name} is cut off by a network partition.", name)
        else:
            self.emit("fault.partition-healed", f"Host {name} is reachable again.", name)

    def slow_link(self, name: str, factor: float) -> None:
        """Run a host's NIC or a rack's uplink at `factor` × its speed (1.0 heals it)."""
        if not 0.0 < factor <= 1.0:
            raise self.refuse(f"A slow-link factor must be in (0, 1], not {factor}.")
        if name in self.hosts:
            self.hosts[name].nic_factor = factor
            self.touch("host", name)
        elif name in self.racks:
            self.racks[name].uplink_factor = factor
            self.touch("rack", name)
        else:
            raise self.refuse(f"There is no host or rack named {name!r}.")
        self.emit("fault.slow-link", f"Link of {name} now runs at {factor:.0%} of its speed.", name)

    def fail_next_migration(self, vm: str | None = None, reason: str = "") -> None:
        """Make the next migration of `vm` (or of any VM) fail halfway with `reason`."""
        if vm is not None:
            self.vm(vm)
        reason = reason or "Injected fault: the migration connection was reset."
        self.fail_next[vm or ""] = reason
        self.emit("fault.migration", f"The next migration of {vm or 'any VM'} will fail.", None, vm)
