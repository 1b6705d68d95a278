"""A VM's serial console through the door: opening one is an audited action
(`vm.console`, operator role: a console is a login prompt on the guest), refused in one
sentence when the VM does not run, is unknown, or its host does not answer; its end is
recorded too (`vm.console.end`, with how it ended).

What runs between is the terminal's business (`vdctui.serial_terminal`): the console
only opens the channel and says how it ended.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vdctui.drivers.serial import SerialChannel
from vdctui.escape import for_terminal
from vdctui.model import VmState
from vdctui.ops.actions import Action
from vdctui.ops.errors import Refused

if TYPE_CHECKING:
    from vdctui.ops.console import Console

OPEN_STATES = (VmState.RUNNING, VmState.PAUSED)
MAX_SIZE = 10_000  # columns or rows a terminal may claim


def escape_note(channel: SerialChannel) -> str:
    """What is said on screen before the console starts (names escaped)."""
    return (
        f"Console of {for_terminal(channel.vm)} on host {for_terminal(channel.host)}: "
        f"{channel.escape_key} ends it and comes back to vdctui."
    )


async def open_console(
    console: Console, vm: str, size: tuple[int, int] = (80, 24), term: str = "xterm"
) -> SerialChannel:
    """Open `virsh console VM` on its host (audited); the caller attaches a terminal to
    the channel, then calls `ended`."""
    columns, rows = size
    if not term.replace("-", "").replace(".", "").isalnum() or len(term) > 64:
        term = "xterm"  # TERM comes from the environment: only a plain name goes to the host

    async def work() -> SerialChannel:
        for value in size:
            if not isinstance(value, int) or not 1 <= value <= MAX_SIZE:
                raise Refused(f"A terminal of {columns}x{rows} is not one a console can use.")
        seen = console.vm(vm)  # one the store knows (from its host): quoted on the way
        if seen.state not in OPEN_STATES:
            raise Refused(
                f"{vm} is {seen.state}: its console answers only while it runs (start it first)."
            )
        return await console.driver.open_console(vm, (columns, rows), term)

    return await console.change(Action.VM_CONSOLE, vm, {"size": f"{columns}x{rows}"}, work)


def ended(console: Console, channel: SerialChannel) -> tuple[bool, str]:
    """Record the console's end (audited) and say it: (whether it ended cleanly, the
    sentence). virsh's own error (`The domain is not running`, `Active console session
    exists`) is the reason when it printed one."""
    status = channel.exit_status()
    error = channel.error()
    where = f"{channel.vm} on host {channel.host}"
    if status == 0:
        result, sentence = "ok", f"The console of {where} ended."
    elif error:
        result, sentence = "failed", f"The console of {where} ended: {error}."
    elif status is None:
        result, sentence = "failed", f"The console of {where} ended: the connection was lost."
    else:
        result, sentence = "failed", f"The console of {where} ended with status {status}."
    params = {"host": channel.host, "status": status}
    console.record_audit(Action.VM_CONSOLE_END, channel.vm, params, result, error)
    return result == "ok", sentence
