"""The `:` command line (k9s-style) and the same actions in the command palette.

`:vms state:running`, `:migrate web-012 rk2-h07`, `:resize web-012 4 8GiB`, ...
Each command is a name, its arguments' help, and a coroutine that does it.
"""

from __future__ import annotations

import shlex
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from textual.command import DiscoveryHit, Hit, Hits, Provider

from vdctui import checks
from vdctui.ops import Refused
from vdctui.ops.creation import MAX_COUNT
from vdctui.ops.power import POWER_CHOICES
from vdctui.ui import actions
from vdctui.ui.dialogs import CreateRequest
from vdctui.units import parse_memory_mib

if TYPE_CHECKING:
    from vdctui.ui.app import VdcApp

Handler = Callable[["VdcApp", list[str]], Awaitable[None]]


@dataclass(frozen=True)
class Command:
    name: str
    args: str  # e.g. "VM HOST [cold]"
    help: str
    run: Handler
    completes: tuple[str, ...] = ()  # what each argument completes to: "vm", "host", "flavor"...
    repeats: bool = False  # the last kind of argument may come again (`:start web-1 web-2`)

    def completes_at(self, position: int) -> str:
        if position < len(self.completes):
            return self.completes[position]
        return self.completes[-1] if self.repeats and self.completes else ""


async def _go(mode: str, app: VdcApp, args: list[str]) -> None:
    await app.switch_mode(mode)
    screen = app.fleet_screen
    if args and screen is not None:
        screen.apply_filter(" ".join(args))


def _whole(text: str, what: str, low: int, high: int) -> int:
    """A whole number typed on the command line, or Refused in one sentence."""
    try:
        return checks.whole_number(text, what, low=low, high=high)
    except checks.BadInput as exc:
        raise Refused(str(exc)) from None


def usage(name: str) -> str:
    command = COMMANDS[name]
    return f"Usage: :{name} {command.args}".rstrip() + "."


def _need(args: list[str], count: int, name: str) -> None:
    if len(args) < count:
        raise Refused(usage(name))


async def _lifecycle(verb: str, app: VdcApp, args: list[str]) -> None:
    _need(args, 1, verb)
    await actions.lifecycle(app, verb, args)


async def _migrate(app: VdcApp, args: list[str]) -> None:
    if len(args) == 1:
        actions.choose_and_migrate(app, args)
        return
    _need(args, 2, "migrate")
    await actions.migrate(app, args[:1], args[1], cold="cold" in args[2:])


async def _resize(app: VdcApp, args: list[str]) -> None:
    """`:resize VM VCPUS [MEMORY]`, `:resize VM - MEMORY` or `:resize VM MEMORY`."""
    _need(args, 2, "resize")
    vm, sizes = args[0], args[1:]
    if len(sizes) == 1 and not sizes[0].isdigit() and sizes[0] != "-":
        sizes = ["-", sizes[0]]  # a size with a unit: the memory alone
    if len(sizes) > 2:
        raise Refused(usage("resize"))
    if sizes[0] != "-" and not sizes[0].isdigit():
        raise Refused(f"{sizes[0]!r} is not a number of vCPUs. {usage('resize')}")
    try:
        memory = parse_memory_mib(sizes[1]) if len(sizes) > 1 else None
    except ValueError as exc:
        raise Refused(f"{exc} {usage('resize')}") from None
    vcpus = None
    if sizes[0] != "-":
        vcpus = _whole(sizes[0], "VCPUS", -checks.MAX_PLAIN_INT, checks.MAX_PLAIN_INT)
    await actions.resize(app, vm, vcpus, memory)


async def _create(app: VdcApp, args: list[str]) -> None:
    if len(args) < 3:
        actions.open_create(app, args[0] if args else "", tuple(args[1:]))
        return
    count = _whole(args[3], "The count", 1, MAX_COUNT) if len(args) > 3 else 1
    await actions.create(app, CreateRequest(args[0], args[1], args[2], count))


async def _cancel(app: VdcApp, args: list[str]) -> None:
    _need(args, 1, "cancel")
    await actions.cancel_task(app, _whole(args[0], "A task number", 1, checks.MAX_TASK_ID))


async def _maintenance(app: VdcApp, args: list[str]) -> None:
    _need(args, 1, "maintenance")
    if args[1:2] == ["exit"]:
        await actions.exit_maintenance(app, args[0])
    else:
        actions.maintenance(app, args[0])


async def _balance(app: VdcApp, args: list[str]) -> None:
    """`:balance [spread|power] [1..5]`: show the recommended moves, apply them if asked."""
    goal = next((a for a in args if a in ("spread", "power")), "spread")
    level_text = next((a for a in args if a not in ("spread", "power")), "3")
    level = _whole(level_text, "The threshold (1 conservative, 5 aggressive)", 1, 5)
    actions.balance(app, goal, level)


async def _fence(app: VdcApp, args: list[str]) -> None:
    _need(args, 1, "fence")
    actions.fence(app, args[0])


async def _power(app: VdcApp, args: list[str]) -> None:
    _need(args, 2, "power")
    what, rest = args[1], args[2:]
    if what not in POWER_CHOICES or rest not in ([], ["force"]) or (rest and what != "off"):
        raise Refused(usage("power"))
    actions.power(app, args[0], what, force=bool(rest))


async def _restart_vms(app: VdcApp, args: list[str]) -> None:
    _need(args, 1, "restart-vms")
    await actions.restart_vms(app, args[0])


async def _console(app: VdcApp, args: list[str]) -> None:
    """`:console VM`: the VM's serial console, as `c` on it opens it."""
    from vdctui.ui import serial_console

    _need(args, 1, "console")
    app.run_worker(serial_console.open_console(app, args[0]), group="act")


async def _speed(app: VdcApp, args: list[str]) -> None:
    _need(args, 1, "speed")
    try:
        factor = checks.finite_number(
            args[0].rstrip("x"), "The speed", low=checks.MIN_SPEED, high=checks.MAX_SPEED
        )
    except checks.BadInput as exc:
        raise Refused(str(exc)) from None
    if app.clock is None or app.clock.speed is None:
        raise Refused("Only the emulated fleet has a clock to speed up.")
    app.clock.speed = factor
    app.notify(f"The fleet runs at x{factor:g}.")


async def _reload(app: VdcApp, args: list[str]) -> None:
    from vdctui.backend_ssh import reload_inventory

    added = await reload_inventory(app.ops)
    app.notify(
        f"Inventory read again; new: {', '.join(added)}." if added else "Inventory read again."
    )
    app.refresh_screen()


async def _quit(app: VdcApp, args: list[str]) -> None:
    await app.action_quit()


async def _help(app: VdcApp, args: list[str]) -> None:
    app.action_help()


COMMANDS: dict[str, Command] = {
    c.name: c
    for c in [
        Command(
            "inventory", "[filter]", "Sites, rooms, racks and hosts", partial(_go, "inventory")
        ),
        Command("hosts", "", "Sites, rooms, racks and hosts", partial(_go, "inventory")),
        Command(
            "vms",
            "[filter]",
            "Every VM (filter: web state:running host:H pool:P)",
            partial(_go, "vms"),
        ),
        Command("pools", "", "Resource pools", partial(_go, "pools")),
        Command("tasks", "", "Running and recent tasks", partial(_go, "tasks")),
        Command("migrations", "[filter]", "Migration history", partial(_go, "migrations")),
        Command("audit", "[filter]", "The audit log", partial(_go, "audit")),
        Command(
            "services", "[filter]", "Services behind the load balancer", partial(_go, "services")
        ),
        Command("security", "[filter]", "Security groups, rules, flows", partial(_go, "security")),
        Command("alerts", "[filter]", "Intrusion alerts (Q quarantines)", partial(_go, "alerts")),
        Command(
            "snapshots", "", "Snapshot space per datastore, old ones", partial(_go, "snapshots")
        ),
        Command(
            "duplicates",
            "[filter]",
            "VMs defined on two hosts (R removes a copy)",
            partial(_go, "duplicates"),
        ),
        *[
            Command(
                verb,
                "VM...",
                f"{verb.capitalize()} VMs",
                partial(_lifecycle, verb),
                ("vm",),
                repeats=True,
            )
            for verb in ("start", "stop", "destroy", "reboot", "suspend", "resume")
        ],
        Command(
            "migrate",
            "VM [HOST] [cold]",
            "Move a VM (no host: pick from ranked candidates)",
            _migrate,
            ("vm", "host"),
        ),
        Command(
            "resize",
            "VM VCPUS|- [MEMORY]",
            "Change a VM's vCPUs and memory (e.g. 4 8GiB, or - 8GiB for memory alone)",
            _resize,
            ("vm",),
        ),
        Command(
            "create", "[NAME FLAVOR POOL [COUNT]]", "Create VMs", _create, ("", "flavor", "pool")
        ),
        Command("cancel", "TASK", "Cancel a running task", _cancel),
        Command(
            "maintenance",
            "HOST [exit]",
            "Evacuate a host into maintenance (or bring it back)",
            _maintenance,
            ("host",),
        ),
        Command(
            "balance",
            "[spread|power] [1..5]",
            "Recommended moves with their gain; apply them",
            _balance,
        ),
        Command(
            "console",
            "VM",
            "The VM's serial console (the TUI waits; Ctrl-] ends it)",
            _console,
            ("vm",),
        ),  # fmt: skip
        Command("fence", "HOST", "Power a failed host off out of band (HA)", _fence, ("host",)),
        Command(
            "power",
            "HOST on|off|cycle [force]",
            "A host's power through its BMC (off is graceful; force cuts it)",
            _power,
            ("host", "power"),
        ),
        Command(
            "restart-vms",
            "HOST",
            "Restart a fenced host's VMs elsewhere (HA)",
            _restart_vms,
            ("host",),
        ),
        Command("speed", "FACTOR", "Run the emulated fleet faster or slower", _speed),
        Command("reload", "", "Read the inventory file again (hosts added to it)", _reload),
        Command("help", "", "Keys, filter syntax and commands of this screen", _help),
        Command("quit", "", "Leave the console", _quit),
    ]
}
ALIASES = {"q": "quit", "vm": "vms", "host": "hosts", "task": "tasks", "mig": "migrations"}


async def execute(app: VdcApp, line: str) -> str | None:
    """Run one command line. A line that cannot run returns why, in one sentence (the
    caller shows it); what the console refuses is notified by `app.act`."""
    try:
        words = shlex.split(line.strip().lstrip(":"))
    except ValueError as exc:
        return f"Cannot read that command: {exc}."
    if not words:
        return None
    name = ALIASES.get(words[0], words[0])
    command = COMMANDS.get(name)
    if command is None:
        return f"No command {words[0]!r}; Tab completes, ctrl+a lists them."
    try:
        await command.run(app, words[1:])
    except Refused as exc:
        return str(exc)
    return None


class CommandPaletteProvider(Provider):
    """The palette (ctrl+p) offers the screens and the actions of the command line."""

    def _entries(self) -> list[tuple[str, str, str]]:
        return [(f":{c.name} {c.args}".strip(), c.help, c.name) for c in COMMANDS.values()]

    async def discover(self) -> Hits:
        for title, help_text, name in self._entries():
            yield DiscoveryHit(title, partial(self._start, name), help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, name in self._entries():
            score = matcher.match(f"{title} {help_text}")
            if score > 0:
                yield Hit(
                    score, matcher.highlight(title), partial(self._start, name), help=help_text
                )

    def _start(self, name: str) -> None:
        """Screens open at once; commands that need arguments open the command line."""
        from vdctui.ui.widgets.command_line import CommandLine

        app: Any = self.app
        command = COMMANDS[name]
        if command.args and not command.args.startswith("["):
            app.screen.query_one(CommandLine).open(f"{name} ")
        else:
            app.run_worker(self._run(name))

    async def _run(self, name: str) -> None:
        app: Any = self.app
        error = await execute(app, name)
        if error is not None:
            app.notify(error, severity="error")
