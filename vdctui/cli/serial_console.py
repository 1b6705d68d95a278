"""`vdctui vm console VM`: the VM's serial console on this terminal (`virsh console`
through the host's SSH settings, or the embedded fleet's in-process), until Ctrl-]."""

from __future__ import annotations

import os
import sys

import click

from vdctui.cli.context import CliContext, fail, pass_cli
from vdctui.cli.output import say
from vdctui.ops import Console
from vdctui.ops import serial_console as serial
from vdctui.ops.actions import Action
from vdctui.serial_terminal import attach, terminal_size


@click.command("console")
@click.argument("vm")
@pass_cli
def console(cli: CliContext, vm: str) -> None:
    """VM's serial console (virsh console) on this terminal; Ctrl-] ends it. Audited;
    needs the operator role and a running VM."""
    cli.require(Action.VM_CONSOLE, vm)  # a viewer is refused (audited) before anything else
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        fail(f"A console needs a terminal: run `vdctui vm console {vm}` at one.")

    async def body(console: Console) -> tuple[bool, str]:
        size = terminal_size(sys.stdout.fileno())
        channel = await serial.open_console(console, vm, size, os.environ.get("TERM", "xterm"))
        try:
            say(serial.escape_note(channel))
            sys.stdout.flush()
            await attach(channel, stdin_fd=sys.stdin.fileno(), stdout_fd=sys.stdout.fileno())
        finally:
            await channel.close()
        return serial.ended(console, channel)

    clean, sentence = cli.run(body)
    if not clean:
        fail(sentence)
    say(sentence)
