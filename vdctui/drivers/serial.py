"""A VM's serial console as a driver opens it: a byte channel to `virsh console VM`.

`SerialChannel` is what the terminal bridge (`vdctui.serial_terminal`) talks to, for
real hosts (over SSH with a pty: `vdctui.drivers.ssh.console`) and for the embedded
emulated fleet (in-process: `EmulatedSerial` here, the same console the emulated SSH
servers offer). The channel never interprets the bytes: the escape character (Ctrl-])
is virsh's, and ends the channel from the far side.
"""

from __future__ import annotations

import abc
import asyncio
from typing import TYPE_CHECKING

from vdctui.drivers.base import HostUnreachable, InvalidOperation, NoSuchVm

if TYPE_CHECKING:
    import emulator
    from emulator.serial import SerialConsole

ESCAPE_KEY = "Ctrl-]"  # virsh console's escape character, said before a console starts
ESCAPE_BYTE = b"\x1d"
TAIL_BYTES = 4096  # the end of the output kept, for the sentence a console ends with


class SerialChannel(abc.ABC):
    """One open `virsh console` session on `host` for `vm`."""

    vm: str
    host: str
    escape_key: str = ESCAPE_KEY

    def __init__(self) -> None:
        self._tail = b""

    @abc.abstractmethod
    async def read(self) -> bytes:
        """What the console writes next; b"" once it has ended."""

    @abc.abstractmethod
    def write(self, data: bytes) -> None:
        """What the operator typed, as typed (raw)."""

    def resize(self, columns: int, rows: int) -> None:  # noqa: B027 - a pty's own business
        """The operator's terminal changed size."""

    @abc.abstractmethod
    async def close(self) -> None:
        """End the console from this side (it may have ended already)."""

    @abc.abstractmethod
    def exit_status(self) -> int | None:
        """virsh's exit status once ended (None: not known, e.g. the connection dropped)."""

    def _keep(self, data: bytes) -> bytes:
        self._tail = (self._tail + data)[-TAIL_BYTES:]
        return data

    def error(self) -> str:
        """The last `error: ...` line the console printed (virsh's refusal), or ""."""
        lines = self._tail.decode("utf-8", "replace").replace("\r", "\n").split("\n")
        errors = [line.strip() for line in lines if line.strip().startswith("error:")]
        return errors[-1].removeprefix("error:").strip() if errors else ""


class EmulatedChannel(SerialChannel):
    """`virsh console` of an embedded emulated VM, in this process."""

    def __init__(self, console: SerialConsole, opening: str, poll_s: float = 0.1) -> None:
        super().__init__()
        self.vm = console.vm
        self.host = console.host
        self._console = console
        self._poll_s = poll_s
        self._out: asyncio.Queue[bytes] = asyncio.Queue()
        self._out.put_nowait(opening.encode())

    async def read(self) -> bytes:
        while True:
            if not self._out.empty():
                return self._keep(self._out.get_nowait())
            if self._console.ended:
                return b""
            try:
                async with asyncio.timeout(self._poll_s):
                    return self._keep(await self._out.get())
            except TimeoutError:
                self._put(self._console.check())

    def _put(self, text: str) -> None:
        if text:
            self._out.put_nowait(text.encode())

    def write(self, data: bytes) -> None:
        self._put(self._console.feed(data.decode("utf-8", "replace")))

    async def close(self) -> None:
        if not self._console.ended:
            self._console.ended = True
            self._console.why = "closed by the console"

    def exit_status(self) -> int | None:
        return 0 if self._console.ended else None


class EmulatedSerial:
    """`open_console` for the embedded emulated fleet (a mixin of EmulatedDriver)."""

    fleet: emulator.Fleet

    async def open_console(
        self, vm: str, size: tuple[int, int] = (80, 24), term: str = "xterm"
    ) -> SerialChannel:
        import emulator
        from emulator.serial import ConsoleRefused, SerialConsole

        v = self.fleet.vms.get(vm)
        if v is None:
            raise NoSuchVm(f"There is no VM named {vm!r}.")
        try:
            self.fleet.check_reachable(v.host)
        except emulator.HostUnreachable as exc:  # one sentence already
            raise HostUnreachable(str(exc)) from None
        console = SerialConsole(self.fleet, v.host, vm)
        try:
            opening = console.open()
        except ConsoleRefused as exc:
            raise InvalidOperation(f"{vm}'s console on host {v.host}: {exc}.") from None
        return EmulatedChannel(console, opening)
