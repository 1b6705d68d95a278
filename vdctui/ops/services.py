"""Services behind the load balancer (the ADC), through the door.

The store keeps what operators defined (a service: VIP and port, method, health check,
members); the ADC (`HostDriver.adc()`) is the truth about what it does now. Every
change is one audited action; draining or removing a service's last healthy member is
refused unless forced, with the reason.
"""

from __future__ import annotations

import ipaddress
from dataclasses import replace
from typing import TYPE_CHECKING

from vdctui import checks
from vdctui.drivers.adc.base import AdcDriver
from vdctui.model import (
    BALANCING_METHODS,
    HEALTH_CHECKS,
    MemberState,
    Service,
    ServiceMember,
    ServiceStatus,
)
from vdctui.ops.actions import Action
from vdctui.ops.errors import Refused
from vdctui.ops.handover import fleet_operation

if TYPE_CHECKING:
    from vdctui.ops.console import Console

MAX_RATE = 1_000_000.0  # requests/s an emulated service may receive


def adc_of(console: Console) -> AdcDriver:
    adc = console.driver.adc()
    if adc is None:
        raise Refused("This data center has no load balancer: name one in the inventory ([[adc]]).")
    return adc


def known_service(console: Console, name: str) -> Service:
    service = console.store.service(name)
    if service is None:
        known = ", ".join(s.name for s in console.store.services()) or "none"
        raise Refused(f"There is no service named {name!r} (known: {known}).")
    return service


def find_member(service: Service, vm: str, port: int | None = None) -> ServiceMember:
    """The member of `service` on `vm` (and `port`, needed when the VM has several)."""
    found = [m for m in service.members if m.vm == vm and (port is None or m.port == port)]
    if not found:
        where = f"{vm}:{port}" if port is not None else vm
        raise Refused(f"Service {service.name} has no member {where}.")
    if len(found) > 1:
        ports = ", ".join(str(m.port) for m in found)
        raise Refused(f"{vm} is a member of {service.name} on ports {ports}: say which (VM:PORT).")
    return found[0]


@fleet_operation()
async def statuses(console: Console) -> list[ServiceStatus]:
    """Every service with what the ADC says of it now; changes nothing."""
    services = console.store.services()
    if not services:
        return []
    return await adc_of(console).status(services)


def _number(value: object, what: str, low: int, high: int) -> int:
    try:
        return checks.whole_number(value, what, low=low, high=high)
    except checks.BadInput as exc:
        raise Refused(str(exc)) from None


def _name(value: object, what: str) -> str:
    try:
        return checks.name(value, what)
    except checks.BadInput as exc:
        raise Refused(str(exc)) from None


@fleet_operation(Action.SERVICE_CREATE)
async def create_service(
    console: Console,
    name: str,
    *,
    vip: str,
    port: int,
    method: str = "roundrobin",
    check: str = "tcp",
    rate: float | None = None,
) -> Service:
    """Define a service (no members yet) and give it to the ADC."""
    params = {"vip": vip, "port": port, "method": method, "check": check, "rate": rate}

    async def work() -> Service:
        _name(name, "service")
        try:
            address = str(ipaddress.ip_address(vip))
        except ValueError:
            raise Refused(f"{checks.shown(vip)} is not an IP address.") from None
        number = _number(port, "A port", 1, 65535)
        if method not in BALANCING_METHODS:
            raise Refused(f"A balancing method is one of {', '.join(BALANCING_METHODS)}.")
        if check not in HEALTH_CHECKS:
            raise Refused(f"A health check is one of {', '.join(HEALTH_CHECKS)}.")
        if rate is not None and not 0 <= rate <= MAX_RATE:
            raise Refused(f"A request rate is 0 to {MAX_RATE:.0f} requests/s.")
        if console.store.service(name) is not None:
            raise Refused(f"A service named {name!r} exists already.")
        service = Service(name, address, number, method, check)
        await adc_of(console).define(service, rate=rate)
        console.store.put_service(service)
        return service

    return await console.change(Action.SERVICE_CREATE, name, params, work)


@fleet_operation(Action.SERVICE_MEMBER_ADD)
async def add_member(
    console: Console, service_name: str, vm: str, port: int, *, weight: int = 100
) -> Service:
    """A VM (+ port, weight) joins a service, ready."""
    params = {"vm": vm, "port": port, "weight": weight}

    async def work() -> Service:
        service = known_service(console, service_name)
        console.vm(vm)
        number = _number(port, "A port", 1, 65535)
        share = _number(weight, "A weight", 0, 256)
        if any(m.vm == vm and m.port == number for m in service.members):
            raise Refused(f"{vm}:{number} is a member of {service_name} already.")
        grown = replace(service, members=(*service.members, ServiceMember(vm, number, share)))
        await adc_of(console).define(grown)
        console.store.put_service(grown)
        return grown

    return await console.change(Action.SERVICE_MEMBER_ADD, service_name, params, work)


def healthy_others(status: ServiceStatus, leaving: set[tuple[str, int]]) -> list[str]:
    """The members that would still take traffic once `leaving` stop (a member without a
    health check counts as healthy, as the balancer takes it)."""
    return [
        m.vm
        for m in status.members
        if (m.vm, m.port) not in leaving and m.state is MemberState.UP and m.healthy is not False
    ]


async def check_not_last(
    console: Console, service: Service, leaving: set[tuple[str, int]], force: bool
) -> None:
    """Refuse taking `leaving` out of `service` when no healthy member would be left,
    unless forced."""
    if force:
        return
    (status,) = await adc_of(console).status([service])
    still_up = [
        m for m in status.members if (m.vm, m.port) in leaving and m.state is MemberState.UP
    ]
    if still_up and not healthy_others(status, leaving):
        names = ", ".join(f"{m.vm}:{m.port}" for m in still_up)
        raise Refused(
            f"Service {service.name} would lose its last healthy member ({names}); "
            "add --force to do it anyway."
        )


@fleet_operation(Action.SERVICE_MEMBER_REMOVE)
async def remove_member(
    console: Console, service_name: str, vm: str, port: int | None = None, *, force: bool = False
) -> Service:
    params = {"vm": vm, "port": port, "force": force}

    async def work() -> Service:
        service = known_service(console, service_name)
        member = find_member(service, vm, port)
        await check_not_last(console, service, {(member.vm, member.port)}, force)
        left = replace(service, members=tuple(m for m in service.members if m != member))
        await adc_of(console).define(left)
        console.store.put_service(left)
        return left

    return await console.change(Action.SERVICE_MEMBER_REMOVE, service_name, params, work)


def member_action(state: str) -> Action:
    """The door's action for setting a member to `state`."""
    return Action.SERVICE_ENABLE if state == "ready" else Action.SERVICE_DRAIN


@fleet_operation(
    Action.SERVICE_DRAIN, Action.SERVICE_ENABLE, door=lambda call: member_action(call["state"])
)
async def set_member(
    console: Console,
    service_name: str,
    vm: str,
    port: int | None = None,
    *,
    state: str,
    force: bool = False,
) -> ServiceMember:
    """Drain a member (`state` "drain", or "maint"), or enable it ("ready")."""
    action = member_action(state)
    params = {"vm": vm, "port": port, "state": state, "force": force}

    async def work() -> ServiceMember:
        service = known_service(console, service_name)
        member = find_member(service, vm, port)
        if state != "ready":
            await check_not_last(console, service, {(member.vm, member.port)}, force)
        await adc_of(console).set_state(service.name, member, state)
        return member

    return await console.change(action, service_name, params, work)
