"""The one interface the console uses to reach its load balancer (ADC).

The store holds what operators defined (services and members); the ADC is the truth
about what it does now: each member's admin state (ready, drain, maint), health,
sessions and requests. Services are mapped to the ADC's backends by name, members to
its servers by VM name.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence

from vdctui.model import Service, ServiceMember, ServiceStatus

ADMIN_STATES = ("ready", "drain", "maint")


class AdcDriver(abc.ABC):
    """A load balancer the console drives."""

    backend: str = "abstract"  # "emulated" | "haproxy"

    @abc.abstractmethod
    async def define(self, service: Service, *, rate: float | None = None) -> None:
        """Make the ADC serve `service` as defined (its members joining ready); `rate`:
        the emulator's requests/s (a real ADC serves what its users send)."""

    @abc.abstractmethod
    async def status(self, services: Sequence[Service]) -> list[ServiceStatus]:
        """What the ADC does now for each service (unknown figures as None)."""

    @abc.abstractmethod
    async def set_state(self, service: str, member: ServiceMember, state: str) -> None:
        """Set a member's admin state: ready, drain or maint."""

    @abc.abstractmethod
    async def set_weight(self, service: str, member: ServiceMember, weight: int) -> None: ...

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""
