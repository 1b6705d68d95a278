"""`virsh console VM` on an emulated host over SSH: the VM's serial console
(`emulator.serial.SerialConsole`) on the channel's terminal.

As with a real virsh, a console needs a terminal (`ssh -t`, or a pty requested by the
client): without one it is refused with virsh's words. Ctrl-] ends it (exit status 0);
so does the VM stopping, moving away, or its host going down.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import asyncssh

from wire.stopping import cancelled

from ..fleet import Fleet
from ..serial import ConsoleRefused, SerialConsole
from .words import ShellInjection, Unbalanced, shell_words

NO_TTY = "error: Cannot run interactive console without a controlling TTY\n"
FLAGS = ("--force", "--safe")


def console_domain(command: str) -> str | None:
    """The domain of `[VAR=x] virsh [-q] [-c URI] console [--domain] NAME [--force]`, else
    None (not a console command)."""
    try:
        words = shell_words(command)
    except (ShellInjection, Unbalanced):
        return None
    while words and "=" in words[0] and not words[0].startswith("="):
        words.pop(0)
    if not words or words[0] != "virsh":
        return None
    rest = words[1:]
    while rest and rest[0].startswith("-"):
        flag = rest.pop(0)
        if flag in ("-c", "--connect") and rest:
            rest.pop(0)
        elif flag not in ("-q", "--quiet"):
            return None
    if not rest or rest[0] != "console":
        return None
    args = [w for w in rest[1:] if w not in FLAGS]
    if args[:1] == ["--domain"]:
        args = args[1:]
    return args[0] if len(args) == 1 else None


async def serve_console(
    fleet: Fleet,
    host: str,
    domain: str,
    process: Any,
    going: Callable[[], bool],
    poll_s: float = 0.1,
) -> None:
    """Run one console on an asyncssh server process until it ends; then exit 0."""
    if process.get_terminal_type() is None:
        process.stderr.write(NO_TTY)
        process.exit(1)
        return
    console = SerialConsole(fleet, host, domain)
    try:
        process.stdout.write(console.open())
    except ConsoleRefused as exc:
        process.stderr.write(f"error: {exc}\n")
        process.exit(1)
        return

    async def watch() -> None:  # the VM or its host going away ends the console
        while not console.ended:
            await asyncio.sleep(poll_s)
            if not going():
                console.ended = True
                break
            process.stdout.write(console.check())

    watcher = asyncio.get_running_loop().create_task(watch())
    try:
        while not console.ended:
            reading = asyncio.ensure_future(process.stdin.read(1024))
            done, _ = await asyncio.wait({reading, watcher}, return_when=asyncio.FIRST_COMPLETED)
            if reading not in done:
                with contextlib.suppress(Exception):  # what it read, or failed with: unheard
                    await cancelled(reading)
                break
            try:
                typed = reading.result()
            except asyncssh.TerminalSizeChanged:  # the client's window changed: go on
                continue
            if not typed:  # the client closed its side
                break
            process.stdout.write(console.feed(typed))
    finally:
        await cancelled(watcher)
    if not process.channel.is_closing():
        process.exit(0)
