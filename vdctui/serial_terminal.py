"""The operator's terminal attached to a VM's serial console channel, until it ends.

The terminal is put in raw mode (as `virsh console` puts its own), what is typed goes
to the channel byte for byte and what the console writes comes back to the terminal;
a size change is passed on. The escape character (Ctrl-]) is virsh's: it ends the
console from the far side. Should the far side not end within `grace_s` after it was
typed (a host that stopped answering), the channel is closed from here, so the escape
key always brings the operator back.

Used by `vdctui vm console` and by the TUI (inside `App.suspend()`). Nothing here
imports textual or rich.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import termios
import tty
from typing import Any

from vdctui.drivers.serial import ESCAPE_BYTE, SerialChannel

GRACE_S = 3.0


def terminal_size(fd: int = 1) -> tuple[int, int]:
    """(columns, rows) of the terminal on `fd`, or 80x24 when it is not one."""
    try:
        size = os.get_terminal_size(fd)
    except OSError:
        return (80, 24)
    return (max(size.columns, 1), max(size.lines, 1))


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        try:
            written = os.write(fd, view)
        except BlockingIOError:
            continue
        view = view[written:]


async def attach(
    channel: SerialChannel, *, stdin_fd: int = 0, stdout_fd: int = 1, grace_s: float = GRACE_S
) -> None:
    """Bridge the terminal on `stdin_fd`/`stdout_fd` and `channel` until the channel ends."""
    loop = asyncio.get_running_loop()
    saved: list[Any] | None = None
    with contextlib.suppress(termios.error):
        saved = termios.tcgetattr(stdin_fd)
        tty.setraw(stdin_fd, termios.TCSANOW)
    closing: list[asyncio.TimerHandle] = []

    def close_soon() -> None:
        loop.create_task(channel.close())

    def typed() -> None:
        try:
            data = os.read(stdin_fd, 1024)
        except OSError:
            data = b""
        if not data:  # the terminal went away: so does the console
            loop.remove_reader(stdin_fd)
            close_soon()
            return
        channel.write(data)
        if ESCAPE_BYTE in data and not closing:
            closing.append(loop.call_later(grace_s, close_soon))

    def resized() -> None:
        channel.resize(*terminal_size(stdout_fd))

    loop.add_reader(stdin_fd, typed)
    watching_size = False
    with contextlib.suppress(ValueError, RuntimeError, NotImplementedError):
        loop.add_signal_handler(signal.SIGWINCH, resized)
        watching_size = True
    try:
        while data := await channel.read():
            _write_all(stdout_fd, data)
    finally:
        loop.remove_reader(stdin_fd)
        for handle in closing:
            handle.cancel()
        if watching_size:
            loop.remove_signal_handler(signal.SIGWINCH)
        if saved is not None:
            with contextlib.suppress(termios.error):
                termios.tcsetattr(stdin_fd, termios.TCSADRAIN, saved)
        _write_all(stdout_fd, b"\r\n")
