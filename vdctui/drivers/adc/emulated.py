"""The emulated ADC: the fleet's own services (emulator.services), users included."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from emulator.services import ADMIN, DRAIN, MAINT, MemberLive, key, shares
from emulator.services import Service as SimService
from vdctui.drivers.adc.base import AdcDriver
from vdctui.model import MemberState, MemberStatus, Service, ServiceMember, ServiceStatus

if TYPE_CHECKING:
    from vdctui.drivers.emulated import EmulatedDriver

DEFAULT_RATE = 100.0  # requests/s a new emulated service receives


class EmulatedAdc(AdcDriver):
    backend = "emulated"

    def __init__(self, driver: EmulatedDriver) -> None:
        self.driver = driver

    async def define(self, service: Service, *, rate: float | None = None) -> None:
        old = self.driver.fleet.services.get(service.name)
        sim = SimService(
            service.name,
            service.vip,
            service.port,
            service.method,
            rate=rate if rate is not None else old.rate if old else DEFAULT_RATE,
            members=[[m.vm, m.port, m.weight, "ready"] for m in service.members],
        )
        self.driver._change(self.driver.fleet.define_service, sim)

    async def status(self, services: Sequence[Service]) -> list[ServiceStatus]:
        return [self._status(s) for s in services]

    def _status(self, service: Service) -> ServiceStatus:
        sim = self.driver.fleet.services.get(service.name)
        if sim is None:
            return ServiceStatus(service, (), None, None, None)
        members = []
        rate = self.driver.fleet.rate_now(sim)
        lives = [sim.live.get(key(row)) for row in sim.members]
        rates = {
            key(row): rate * share if live.available else 0.0
            for row, live, share in zip(
                sim.members, lives, shares(sim, [x or MemberLive() for x in lives]), strict=True
            )
            if live is not None
        }
        for m in service.members:
            row = sim.member(m.vm, m.port)
            live = sim.live.get(f"{m.vm}:{m.port}")
            if row is None or live is None:
                members.append(
                    MemberStatus(m.vm, m.port, m.weight, MemberState.DOWN, None, None, None)
                )
                continue
            members.append(
                MemberStatus(
                    m.vm,
                    m.port,
                    int(row[2]),  # type: ignore[call-overload]
                    _state(row, live),
                    live.lb_up,
                    round(live.sessions),
                    rates.get(f"{m.vm}:{m.port}"),
                )
            )
        return ServiceStatus(service, tuple(members), rate, sim.error_rate, round(sim.failed))

    async def set_state(self, service: str, member: ServiceMember, state: str) -> None:
        fleet = self.driver.fleet
        self.driver._change(fleet.set_member_admin, service, member.vm, member.port, state)

    async def set_weight(self, service: str, member: ServiceMember, weight: int) -> None:
        fleet = self.driver.fleet
        self.driver._change(fleet.set_member_weight, service, member.vm, member.port, weight)


def _state(row: list[object], live: MemberLive) -> MemberState:
    if row[ADMIN] == MAINT:
        return MemberState.MAINT
    if row[ADMIN] == DRAIN:
        return MemberState.DRAIN
    return MemberState.UP if live.lb_up else MemberState.DOWN
