"""A driver that is not there yet: the console paints from its store while the
real driver connects, and every call meanwhile says so in one sentence."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import NoReturn

from vdctui.drivers.base import HostDriver, HostUnreachable, MigrationHandle
from vdctui.drivers.serial import SerialChannel
from vdctui.model import CpuPins, FleetEvent, Host, MigrationOptions, Topology, Vm, VmSpec

MESSAGE = "The fleet is still connecting; try again in a moment."


class PendingDriver(HostDriver):
    backend = "connecting"

    def __init__(self, message: str = MESSAGE) -> None:
        self.message = message  # what every call says (another process holds the fleet)

    def _wait(self) -> NoReturn:
        raise HostUnreachable(self.message)

    async def topology(self) -> Topology:
        self._wait()

    async def list_hosts(self) -> list[Host]:
        self._wait()

    async def list_vms(self, host: str | None = None) -> list[Vm]:
        self._wait()

    async def get_vm(self, name: str) -> Vm:
        self._wait()

    async def define(self, spec: VmSpec, host: str) -> Vm:
        self._wait()

    async def undefine(self, name: str) -> None:
        self._wait()

    async def start(self, name: str) -> None:
        self._wait()

    async def shutdown(self, name: str) -> None:
        self._wait()

    async def destroy(self, name: str) -> None:
        self._wait()

    async def reboot(self, name: str) -> None:
        self._wait()

    async def suspend(self, name: str) -> None:
        self._wait()

    async def resume(self, name: str) -> None:
        self._wait()

    async def set_vcpus(self, name: str, vcpus: int) -> None:
        self._wait()

    async def set_memory(self, name: str, memory_mib: int) -> None:
        self._wait()

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
        self._wait()

    async def open_console(
        self, vm: str, size: tuple[int, int] = (80, 24), term: str = "xterm"
    ) -> SerialChannel:
        self._wait()

    def events(self) -> AsyncIterator[FleetEvent]:
        self._wait()
