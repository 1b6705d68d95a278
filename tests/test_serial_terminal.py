"""The terminal bridge of a VM's console, on a pty of its own: raw bytes both ways, the
terminal's mode restored, and Ctrl-] bringing the operator back even when the far side
never ends the console."""

from __future__ import annotations

import asyncio
import os
import termios

from vdctui.drivers.serial import SerialChannel
from vdctui.serial_terminal import attach


class DeafHost(SerialChannel):
    """A console whose host ignores everything, the escape character included."""

    def __init__(self) -> None:
        super().__init__()
        self.vm, self.host = "web-001", "kvm-01"
        self.typed = b""
        self.closed = asyncio.Event()
        self.out: asyncio.Queue[bytes] = asyncio.Queue()
        self.out.put_nowait(b"web-001 login: ")

    async def read(self) -> bytes:
        reading = asyncio.ensure_future(self.out.get())
        closing = asyncio.ensure_future(self.closed.wait())
        done, _ = await asyncio.wait({reading, closing}, return_when=asyncio.FIRST_COMPLETED)
        if reading in done:
            closing.cancel()
            return reading.result()
        reading.cancel()
        return b""

    def write(self, data: bytes) -> None:
        self.typed += data

    async def close(self) -> None:
        self.closed.set()

    def exit_status(self) -> int | None:
        return None


async def test_bytes_go_both_ways_and_the_escape_key_always_comes_back() -> None:
    master, slave = os.openpty()
    before = termios.tcgetattr(slave)
    channel = DeafHost()
    try:
        bridge = asyncio.ensure_future(
            attach(channel, stdin_fd=slave, stdout_fd=slave, grace_s=0.2)
        )
        loop = asyncio.get_running_loop()
        seen = b""
        while b"login: " not in seen:
            seen += await loop.run_in_executor(None, os.read, master, 1024)
        assert not termios.tcgetattr(slave)[3] & termios.ECHO  # raw while attached
        os.write(master, b"root\r\x03\x1d")  # Enter, Ctrl-C and Ctrl-] pass as they are
        await asyncio.wait_for(bridge, 30)  # the deaf host is closed from here after the grace
        assert channel.typed == b"root\r\x03\x1d"
        assert channel.closed.is_set()
        assert termios.tcgetattr(slave) == before  # the terminal's mode is back
    finally:
        os.close(master)
        os.close(slave)
