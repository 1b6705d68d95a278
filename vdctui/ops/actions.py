"""Every change an operator can make, in one typed place: its name (as the audit log
writes it), the role it needs, and what it is in the operator's words.

The Console's door (`Console.change`) and its audit (`Console.record_audit`) take
`Action` members only, so an action without a role cannot exist: mypy refuses a
string, and the door refuses at run time whatever is not an `Action`.
"""

from __future__ import annotations

import enum

from vdctui.frozen import frozen
from vdctui.model import Role


@frozen
class ActionSpec:
    name: str  # as written in the audit log, e.g. "vm.migrate"
    role: Role  # the least role that may do it
    what: str  # the operator's words, for refusals: "Migrating a VM"
    change: bool = True  # False: a record of something seen or ended, not a request


class Action(enum.Enum):
    """The registry. Add a member here to add a change; its role comes with it."""

    VM_START = ActionSpec("vm.start", Role.OPERATOR, "Starting a VM")
    VM_STOP = ActionSpec("vm.stop", Role.OPERATOR, "Stopping a VM")
    VM_DESTROY = ActionSpec("vm.destroy", Role.OPERATOR, "Powering a VM off")
    VM_REBOOT = ActionSpec("vm.reboot", Role.OPERATOR, "Rebooting a VM")
    VM_SUSPEND = ActionSpec("vm.suspend", Role.OPERATOR, "Suspending a VM")
    VM_RESUME = ActionSpec("vm.resume", Role.OPERATOR, "Resuming a VM")
    VM_RESIZE = ActionSpec("vm.resize", Role.OPERATOR, "Resizing a VM")
    VM_CREATE = ActionSpec("vm.create", Role.OPERATOR, "Creating VMs")
    VM_MIGRATE = ActionSpec("vm.migrate", Role.OPERATOR, "Migrating a VM")
    VM_REMOVE_COPY = ActionSpec(
        "vm.remove-copy", Role.OPERATOR, "Removing a VM's stale copy from a host"
    )
    VM_AUTOSTART = ActionSpec("vm.autostart", Role.OPERATOR, "Changing a VM's autostart")
    VM_SNAPSHOT_CREATE = ActionSpec("vm.snapshot.create", Role.OPERATOR, "Taking a VM snapshot")
    VM_SNAPSHOT_REVERT = ActionSpec(
        "vm.snapshot.revert", Role.OPERATOR, "Reverting a VM to a snapshot"
    )
    VM_SNAPSHOT_DELETE = ActionSpec("vm.snapshot.delete", Role.OPERATOR, "Deleting a VM snapshot")
    VM_CONSOLE = ActionSpec("vm.console", Role.OPERATOR, "Opening a VM's console")
    VM_CONSOLE_END = ActionSpec(
        "vm.console.end", Role.VIEWER, "The end of a VM's console", change=False
    )
    VM_CPU_POLICY = ActionSpec("vm.cpu-policy", Role.OPERATOR, "Changing a VM's CPU policy")
    HOST_PINS_REPAIR = ActionSpec("host.pins-repair", Role.OPERATOR, "Repairing a host's pins")
    HOST_PINS_DRIFT = ActionSpec(
        "host.pins-drift", Role.VIEWER, "Pins found not as held", change=False
    )
    HOST_RESERVE_CPUS = ActionSpec(
        "host.reserve-cpus", Role.ADMIN, "Setting the CPUs a host keeps for itself"
    )
    SECGROUP_CREATE = ActionSpec("secgroup.create", Role.ADMIN, "Creating a security group")
    SECGROUP_RULE_ADD = ActionSpec("secgroup.rule.add", Role.ADMIN, "Adding a security rule")
    SECGROUP_RULE_REMOVE = ActionSpec(
        "secgroup.rule.remove", Role.ADMIN, "Removing a security rule"
    )
    SECGROUP_DELETE = ActionSpec("secgroup.delete", Role.ADMIN, "Deleting a security group")
    SECGROUP_REFRESH = ActionSpec(
        "secgroup.refresh", Role.OPERATOR, "Writing security groups' filters again"
    )
    SECGROUP_ATTACH = ActionSpec("secgroup.attach", Role.OPERATOR, "Attaching a security group")
    SECGROUP_DETACH = ActionSpec("secgroup.detach", Role.OPERATOR, "Detaching a security group")
    VM_QUARANTINE = ActionSpec("vm.quarantine", Role.OPERATOR, "Quarantining a VM")
    FAULT_ATTACK = ActionSpec("fault.attack", Role.ADMIN, "Injecting an attack (emulator)")
    ALERT_RAISED = ActionSpec("alert.raised", Role.VIEWER, "An intrusion alert", change=False)
    VM_MIGRATE_END = ActionSpec(
        "vm.migrate.end", Role.VIEWER, "The end of a migration", change=False
    )
    VM_RESIZE_END = ActionSpec("vm.resize.end", Role.VIEWER, "The end of a resize", change=False)
    VM_CREATE_END = ActionSpec(
        "vm.create.end", Role.VIEWER, "The end of a VM creation", change=False
    )
    MAINTENANCE_END = ActionSpec(
        "host.maintenance.end", Role.VIEWER, "The end of an evacuation", change=False
    )
    HA_RESTART_END = ActionSpec(
        "ha.restart.end", Role.VIEWER, "The end of a failed host's restarts", change=False
    )
    BALANCE_APPLY_END = ActionSpec(
        "balance.apply.end", Role.VIEWER, "The end of the balancer's moves", change=False
    )
    TASK_END = ActionSpec("task.end", Role.VIEWER, "The end of a task", change=False)
    TASK_CANCEL = ActionSpec("task.cancel", Role.OPERATOR, "Cancelling a task")
    MAINTENANCE_ENTER = ActionSpec(
        "host.maintenance.enter", Role.OPERATOR, "Putting a host in maintenance"
    )
    MAINTENANCE_EXIT = ActionSpec(
        "host.maintenance.exit", Role.OPERATOR, "Taking a host out of maintenance"
    )
    AFFINITY_UPDATE = ActionSpec("affinity.update", Role.OPERATOR, "Changing an affinity group")
    BALANCE_APPLY = ActionSpec("balance.apply", Role.OPERATOR, "Applying the balancer's moves")
    HOST_POWER_OFF = ActionSpec("host.power-off", Role.ADMIN, "Powering a host off")
    HOST_POWER_ON = ActionSpec("host.power-on", Role.ADMIN, "Powering a host on")
    HOST_POWER_CYCLE = ActionSpec("host.power-cycle", Role.ADMIN, "Power-cycling a host")
    HA_WATCH_RESTART = ActionSpec(
        "ha.watch", Role.OPERATOR, "Watching hosts with automatic restarts"
    )
    HA_RESTART_HOST = ActionSpec("ha.restart-host", Role.OPERATOR, "Restarting a failed host's VMs")
    HA_RESTART = ActionSpec("ha.restart", Role.OPERATOR, "Restarting a VM elsewhere")
    HA_CONFIRM_DOWN = ActionSpec("ha.confirm-down", Role.ADMIN, "Confirming a host is down")
    HA_DECLARE_FAILED = ActionSpec(
        "ha.declare-failed", Role.VIEWER, "Declaring a host failed", change=False
    )
    POOL_CREATE = ActionSpec("pool.create", Role.ADMIN, "Creating a pool")
    POOL_UPDATE = ActionSpec("pool.update", Role.ADMIN, "Changing a pool")
    HOST_TRUST = ActionSpec("host.trust", Role.ADMIN, "Trusting a host key")
    HOST_KEY_UNKNOWN = ActionSpec(
        "host.key-unknown", Role.VIEWER, "An unknown host key", change=False
    )
    HOST_KEY_CHANGED = ActionSpec(
        "host.key-changed", Role.VIEWER, "A changed host key", change=False
    )
    HOST_KEY_REVOKED = ActionSpec(
        "host.key-revoked", Role.VIEWER, "A revoked host key", change=False
    )
    OPERATOR_SET = ActionSpec("operator.set", Role.ADMIN, "Setting an operator's role")
    EMULATE_FRESH = ActionSpec(
        "emulate.fresh", Role.ADMIN, "Throwing the emulated data center away"
    )
    AUDIT_SEAL = ActionSpec("audit.seal", Role.ADMIN, "Sealing the audit log")
    HOST_ADD = ActionSpec("host.add", Role.ADMIN, "Adding a host")
    HOST_REMOVE = ActionSpec("host.remove", Role.ADMIN, "Removing a host")
    SERVICE_CREATE = ActionSpec("service.create", Role.OPERATOR, "Creating a service")
    SERVICE_MEMBER_ADD = ActionSpec("service.member.add", Role.OPERATOR, "Adding a member")
    SERVICE_MEMBER_REMOVE = ActionSpec("service.member.remove", Role.OPERATOR, "Removing a member")
    SERVICE_DRAIN = ActionSpec("service.drain", Role.OPERATOR, "Draining a member")
    SERVICE_ENABLE = ActionSpec("service.enable", Role.OPERATOR, "Enabling a member")

    @property
    def id(self) -> str:
        """The action's name as the audit log writes it."""
        return self.value.name

    @property
    def role(self) -> Role:
        return self.value.role

    @property
    def what(self) -> str:
        return self.value.what

    @property
    def is_change(self) -> bool:
        return self.value.change

    @classmethod
    def named(cls, name: str) -> Action | None:
        """The action an audit name stands for, or None when none does."""
        return _BY_NAME.get(name)

    @classmethod
    def host_key(cls, verdict: str) -> Action:
        """The record of a host key refused with `verdict` (unknown, changed, revoked)."""
        action = _BY_NAME.get(f"host.key-{verdict}")
        if action is None:
            raise ValueError(f"no host key verdict {verdict!r}")
        return action


_BY_NAME: dict[str, Action] = {a.id: a for a in Action}
