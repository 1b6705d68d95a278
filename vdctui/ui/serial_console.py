"""`c` on a VM: its serial console, with the TUI suspended (as k9s does for `kubectl
exec`). The TUI hands the terminal over (`App.suspend()`), says the escape key, runs the
console until it ends (Ctrl-]), then comes back and says how it ended.

The console is opened through the ops door first (audited; refused in one sentence,
without suspending anything, when the VM does not run or its host does not answer).
`runner` is what runs the console on the terminal: tests put their own in its place.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from textual.app import SuspendNotSupported

from vdctui.drivers.serial import SerialChannel
from vdctui.ops import serial_console as serial
from vdctui.serial_terminal import attach, terminal_size

if TYPE_CHECKING:
    from vdctui.ui.app import VdcApp

Runner = Callable[["VdcApp", SerialChannel], Awaitable[None]]
NOT_HERE = (
    "This console cannot hand its terminal over (it does not run on one of its own): "
    "use `vdctui vm console {vm}` in a shell."
)


async def suspended(app: VdcApp, channel: SerialChannel) -> None:
    """The console on the terminal the TUI gives up meanwhile (nothing is painted)."""
    with app.batch_update(), app.suspend():
        stdin, stdout = sys.__stdin__, sys.__stdout__
        if stdin is None or stdout is None:
            raise SuspendNotSupported("no terminal")
        os.write(stdout.fileno(), (serial.escape_note(channel) + "\r\n").encode())
        channel.resize(*terminal_size(stdout.fileno()))
        await attach(channel, stdin_fd=stdin.fileno(), stdout_fd=stdout.fileno())


runner: Runner = suspended


async def open_console(app: VdcApp, vm: str) -> None:
    """Open `vm`'s console, run it with the TUI suspended, say how it ended."""
    size = (max(app.size.width, 1), max(app.size.height, 1))
    term = os.environ.get("TERM", "xterm")
    channel = await app.act(serial.open_console(app.ops, vm, size, term))
    if channel is None:  # refused or failed: said already
        return
    try:
        await runner(app, channel)
    except SuspendNotSupported:
        app.notify(NOT_HERE.format(vm=vm), severity="error", timeout=10)
    finally:
        await channel.close()
    clean, sentence = serial.ended(app.ops, channel)
    app.notify(sentence, severity="information" if clean else "warning", timeout=8)
    app.refresh_screen()
