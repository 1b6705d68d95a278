"""Security groups through the door: create, rules added and removed, VMs attached and
detached, each role-checked and audited, then applied to the fleet (every VM whose
firewall the change alters: the group's members, and the members of groups whose rules
name it as their remote group).

A VM without groups is not filtered; a VM with groups lets through only what one of their
rules allows (in each direction); a group without rules lets nothing through (quarantine).
A change the fleet refuses is undone in the store and re-applied as it was.
"""

from __future__ import annotations

import contextlib
import ipaddress
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from vdctui import checks
from vdctui.drivers.base import DriverError
from vdctui.model import FirewallRule, FlowCounts, SecurityGroup, SecurityRule, VmFirewall
from vdctui.ops.actions import Action
from vdctui.ops.errors import Failed, Refused
from vdctui.ops.handover import fleet_operation
from vdctui.store import Store

if TYPE_CHECKING:
    from vdctui.ops.console import Console

DIRECTIONS = ("ingress", "egress")
PROTOCOLS = ("tcp", "udp", "icmp", "any")
QUARANTINE = "quarantine"  # a group without rules: nothing in, nothing out


def firewall_of(store: Store, vm: str, groups: list[SecurityGroup] | None = None) -> VmFirewall:
    """The rules a VM's interface applies: its groups' rules, remote groups expanded."""
    groups = store.secgroups() if groups is None else groups
    by_name = {g.name: g for g in groups}
    mine = [g for g in groups if vm in g.members]
    if any(g.name == QUARANTINE for g in mine):
        return VmFirewall(vm, tuple(g.name for g in mine), ())
    rules = tuple(
        FirewallRule(
            r.id,
            r.group,
            r.direction,
            r.protocol,
            r.port_min,
            r.port_max,
            r.remote_cidr,
            by_name[r.remote_group].members if r.remote_group in by_name else (),
        )
        for g in mine
        for r in g.rules
    )
    return VmFirewall(vm, tuple(g.name for g in mine), rules)


def affected(store: Store, group: str) -> set[str]:
    """VMs whose firewall depends on `group`: its members and those of groups naming it."""
    vms: set[str] = set()
    for g in store.secgroups():
        if g.name == group or any(r.remote_group == group for r in g.rules):
            vms.update(g.members)
    return vms


async def apply(console: Console, vms: set[str]) -> None:
    groups = console.store.secgroups()
    for vm in sorted(vms):
        if console.store.vm(vm) is not None:
            await console.driver.set_firewall(firewall_of(console.store, vm, groups))


async def before_move(console: Console, vm: str, target: str) -> None:
    """A filtered VM's filters are defined on `target` before it moves there."""
    firewall = firewall_of(console.store, vm)
    if firewall.groups:
        await console.driver.prepare_firewall(target, firewall)


async def _change(
    console: Console,
    action: Action,
    target: str,
    params: dict[str, Any],
    group: str,
    do: Callable[[], set[str]],
    undo: Callable[[], None],
    then: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Check, change the store, apply to the fleet (then `then`); a fleet refusal undoes it."""

    async def work() -> None:
        before = affected(console.store, group)
        extra = do()
        vms = before | affected(console.store, group) | extra
        try:
            await apply(console, vms)
            if then is not None:
                await then()
        except (DriverError, Failed) as exc:
            undo()
            with contextlib.suppress(DriverError, Failed):
                await apply(console, vms)
            raise Failed(f"Security group {group} was not applied: {exc}") from None

    await console.change(action, target, params, work)


def _group(store: Store, name: str) -> SecurityGroup:
    found = store.secgroup(name)
    if found is None:
        known = ", ".join(g.name for g in store.secgroups()) or "none"
        raise Refused(f"There is no security group {name!r} (known: {known}).")
    return found


@fleet_operation(Action.SECGROUP_CREATE)
async def create(console: Console, name: str, description: str = "") -> None:
    async def work() -> None:
        try:
            checks.name(name, "security group")
        except checks.BadInput as exc:
            raise Refused(str(exc)) from None
        if console.store.secgroup(name) is not None:
            raise Refused(f"A security group named {name!r} exists already.")
        console.store.create_secgroup(name, description[:200])

    await console.change(Action.SECGROUP_CREATE, name, {"description": description}, work)


def checked_rule(
    store: Store,
    group: str,
    direction: str,
    protocol: str,
    ports: str | None,
    remote: str,
) -> SecurityRule:
    """A rule from what the operator typed, or Refused with the one thing that is wrong."""
    _group(store, group)
    if direction not in DIRECTIONS:
        raise Refused(f"A direction is one of {', '.join(DIRECTIONS)}, not {direction!r}.")
    if protocol not in PROTOCOLS:
        raise Refused(f"A protocol is one of {', '.join(PROTOCOLS)}, not {protocol!r}.")
    low = high = None
    if ports:
        if protocol not in ("tcp", "udp"):
            raise Refused(f"Ports go with tcp or udp, not {protocol}.")
        first, _, last = ports.partition("-")
        try:
            low, high = int(first), int(last or first)
        except ValueError:
            raise Refused(f"Ports are N or N-M (1-65535), not {ports!r}.") from None
        if not 1 <= low <= high <= 65535:
            raise Refused(f"Ports are N or N-M (1-65535), not {ports!r}.")
    if remote.startswith("group:"):
        _group(store, remote.removeprefix("group:"))
        return SecurityRule(0, group, direction, protocol, low, high, None, remote[6:])
    try:
        cidr = str(ipaddress.IPv4Network(remote, strict=False))
    except ValueError:
        raise Refused(f"A remote is an IPv4 CIDR or group:NAME, not {remote[:40]!r}.") from None
    return SecurityRule(0, group, direction, protocol, low, high, cidr, None)


@fleet_operation(Action.SECGROUP_RULE_ADD)
async def add_rule(
    console: Console, group: str, direction: str, protocol: str, ports: str | None, remote: str
) -> int:
    params = {"direction": direction, "protocol": protocol, "ports": ports, "remote": remote}
    added: list[int] = []

    def do() -> set[str]:
        rule = checked_rule(console.store, group, direction, protocol, ports, remote)
        added.append(console.store.add_secgroup_rule(rule))
        return set()

    def undo() -> None:
        console.store.remove_secgroup_rule(added[0])

    await _change(console, Action.SECGROUP_RULE_ADD, group, params, group, do, undo)
    return added[0]


@fleet_operation(Action.SECGROUP_RULE_REMOVE)
async def remove_rule(console: Console, rule_id: int) -> None:
    rule = console.store.secgroup_rule(rule_id)
    group = rule.group if rule else ""

    def do() -> set[str]:
        if rule is None:
            raise Refused(f"There is no security rule {rule_id}.")
        console.store.remove_secgroup_rule(rule_id)
        return set()

    def undo() -> None:
        if rule is not None:
            console.store.add_secgroup_rule(rule)

    await _change(
        console, Action.SECGROUP_RULE_REMOVE, str(rule_id), {"group": group}, group, do, undo
    )


def attach_action(on: bool) -> Action:
    return Action.SECGROUP_ATTACH if on else Action.SECGROUP_DETACH


@fleet_operation(
    Action.SECGROUP_ATTACH, Action.SECGROUP_DETACH, door=lambda call: attach_action(call["on"])
)
async def attach(console: Console, group: str, vm: str, *, on: bool = True) -> None:
    """Attach `group` to `vm` (or detach it)."""

    def do() -> set[str]:
        _group(console.store, group)
        if console.store.vm(vm) is None:
            raise Refused(f"There is no VM named {vm!r}.")
        if on == (group in console.store.secgroups_of(vm)):
            raise Refused(f"{vm} is {'in' if on else 'not in'} security group {group} already.")
        console.store.set_secgroup_member(group, vm, on)
        return {vm}

    def undo() -> None:
        console.store.set_secgroup_member(group, vm, not on)

    action = attach_action(on)
    await _change(console, action, vm, {"group": group}, group, do, undo)


def naming(store: Store, group: str) -> list[SecurityRule]:
    """Rules of other groups whose remote is `group`."""
    return [
        r for g in store.secgroups() if g.name != group for r in g.rules if r.remote_group == group
    ]


def in_use(store: Store, group: SecurityGroup) -> str | None:
    """Why deleting `group` needs --detach (said in one sentence), or None."""
    rules = naming(store, group.name)
    uses = []
    if group.members:
        vms = ", ".join(group.members[:5]) + (" …" if len(group.members) > 5 else "")
        uses.append(f"attached to {len(group.members)} VM(s) ({vms})")
    if rules:
        named = ", ".join(f"{r.id} of {r.group}" for r in rules)
        uses.append(f"the remote group of rule(s) {named}")
    return f"Security group {group.name} is {' and '.join(uses)}" if uses else None


@fleet_operation(Action.SECGROUP_DELETE)
async def delete(console: Console, name: str, *, detach: bool = False) -> None:
    """Delete a group; while attached or named as a remote group it is refused, unless
    `detach`: then it is detached from its VMs and the rules naming it are removed too.
    On real hosts its nwfilter is undefined once no VM's filter references it."""
    found: list[tuple[SecurityGroup, list[SecurityRule]]] = []

    def do() -> set[str]:
        group = _group(console.store, name)
        why = in_use(console.store, group)
        if why and not detach:
            raise Refused(f"{why}: add --detach to detach it and remove those rules too.")
        found.append((group, naming(console.store, name)))
        console.store.delete_secgroup(name)
        return set(group.members)

    def undo() -> None:
        console.store.restore_secgroup(*found[0])

    async def forget() -> None:
        await console.driver.forget_firewall_group(name)

    params = {"detach": detach}
    await _change(console, Action.SECGROUP_DELETE, name, params, name, do, undo, forget)


@fleet_operation(Action.SECGROUP_REFRESH)
async def refresh(console: Console) -> int:
    """Apply again every VM's firewall that has a remote-group rule, so that filters written
    from member addresses (real hosts) follow addresses that changed; how many VMs."""
    vms: set[str] = set()

    async def work() -> None:
        for g in console.store.secgroups():
            if any(r.remote_group for r in g.rules):
                vms.update(g.members)
        await apply(console, vms)

    await console.change(Action.SECGROUP_REFRESH, "secgroups", {}, work)
    return len(vms)


@fleet_operation(Action.VM_QUARANTINE)
async def quarantine(console: Console, vm: str, why: str = "") -> None:
    """Cut a VM off: the group `quarantine` (made when first needed) attached, which drops
    everything whatever its other groups allow."""

    def do() -> set[str]:
        if console.store.vm(vm) is None:
            raise Refused(f"There is no VM named {vm!r}.")
        if console.store.secgroup(QUARANTINE) is None:
            console.store.create_secgroup(QUARANTINE, "nothing in, nothing out")
        if QUARANTINE in console.store.secgroups_of(vm):
            raise Refused(f"{vm} is in quarantine already.")
        console.store.set_secgroup_member(QUARANTINE, vm, True)
        return {vm}

    def undo() -> None:
        console.store.set_secgroup_member(QUARANTINE, vm, False)

    await _change(console, Action.VM_QUARANTINE, vm, {"why": why}, QUARANTINE, do, undo)


def groups(console: Console) -> list[SecurityGroup]:
    """Every security group with its rules and members, as the store keeps them."""
    return console.store.secgroups()


@fleet_operation()
async def flow_counts(console: Console) -> FlowCounts | None:
    """Flows each rule and VM let through, or None where the backend does not count them
    (real hosts: no flow records)."""
    try:
        return await console.driver.flow_counts()
    except DriverError:
        return None
