"""`vdctui`: the command line. Global options, then one group per kind of thing."""

from __future__ import annotations

import atexit
import gc
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from vdctui.cli.context import CliContext
from vdctui.cli.lazy import LazyGroup, prepare_all

# As a command's process exits, the interpreter collects garbage among all it ever
# imported: ~8 ms of a CLI read (issue 10, speed), for nothing: a command has closed its
# store, files and sockets itself by then. Frozen, those objects are not looked at again.
atexit.register(gc.freeze)

# Each subcommand is imported when it is used (vdctui.cli.lazy): `vm list` does not
# import the emulator, the balancer or the TUI.
COMMANDS = {
    "console": "vdctui.cli.console:console",
    "emulate": "vdctui.cli.emulate:emulate",
    "host": "vdctui.cli.hosts:host",
    "vm": "vdctui.cli.vms:vm",
    "task": "vdctui.cli.records:task",
    "migration": "vdctui.cli.records:migration",
    "pool": "vdctui.cli.records:pool",
    "audit": "vdctui.cli.records:audit",
    "ha": "vdctui.cli.ha:ha",
    "balance": "vdctui.cli.balance:balance",
    "operator": "vdctui.cli.operators:operator",
    "service": "vdctui.cli.service:service",
    "secgroup": "vdctui.cli.secgroup:secgroup",
    "alert": "vdctui.cli.alerts:alert",
}
HOST_COMMANDS = {
    "maintenance": "vdctui.cli.maintenance:maintenance",
    "power": "vdctui.cli.power:power_host",
    "add": "vdctui.cli.growth:add_host",
    "remove": "vdctui.cli.growth:remove_host_command",
    "trust": "vdctui.cli.trust:trust",
    "cores": "vdctui.cli.cores:host_cores",
    "pins": "vdctui.cli.cores:host_pins",
    "reserve-cpus": "vdctui.cli.cores:host_reserve_cpus",
}
VM_COMMANDS = {
    "migrate": "vdctui.cli.vm_migrate:migrate",
    "snapshot": "vdctui.cli.snapshot:snapshot",
    "console": "vdctui.cli.serial_console:console",
    "xml": "vdctui.cli.config:xml",
    "config": "vdctui.cli.config:config",
    "autostart": "vdctui.cli.config:autostart",
    "duplicates": "vdctui.cli.config:duplicates",
    "remove-copy": "vdctui.cli.config:remove_copy",
    "cpu-policy": "vdctui.cli.cores:vm_cpu_policy",
}
SUBCOMMANDS = {"host": HOST_COMMANDS, "vm": VM_COMMANDS}


def default_db() -> Path:
    """$VDCTUI_DB, else the user data dir ($XDG_DATA_HOME or ~/.local/share)/vdctui."""
    if os.environ.get("VDCTUI_DB"):
        return Path(os.environ["VDCTUI_DB"])
    data_home = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(data_home) / "vdctui" / "vdctui.db"


GLOBAL_OPTIONS: tuple[tuple[tuple[str, ...], dict[str, Any]], ...] = (
    (
        ("--db",),
        {
            "type": click.Path(dir_okay=False, path_type=Path),
            "default": None,
            "help": "The console's SQLite file (default: ~/.local/share/vdctui/vdctui.db). "
            "The emulated fleet lives beside it, so two paths are two data centers.",
        },
    ),
    (("--read-only",), {"is_flag": True, "help": "Viewer role: every change is refused."}),
    (("--json", "as_json"), {"is_flag": True, "help": "Print lists as JSON arrays."}),
    (
        ("--inventory",),
        {
            "type": click.Path(dir_okay=False, exists=True, path_type=Path),
            "default": None,
            "metavar": "FILE.toml",
            "help": "Manage the real (or emulated) hosts this inventory lists, over SSH, "
            "instead of the embedded emulated data center.",
        },
    ),
)


def _override(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    """A global option given after the subcommand: it wins over the same one before it."""
    if value is None or value is False:
        return
    cli = ctx.find_object(CliContext)
    if cli is not None and param.name is not None:
        setattr(cli, param.name, value)


def _global_options(f: Callable[..., None]) -> Callable[..., None]:
    for decls, settings in reversed(GLOBAL_OPTIONS):
        f = click.option(*decls, **settings)(f)
    return f


@click.group(
    cls=LazyGroup,
    lazy=COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"]},
    invoke_without_command=True,
)
@_global_options
@click.version_option(package_name="vdctui")
@click.pass_context
def main(
    ctx: click.Context, db: Path | None, read_only: bool, as_json: bool, inventory: Path | None
) -> None:
    """vdctui: an operator console for a virtualized data center.

    Without a command it opens the console (the TUI) on the embedded emulated
    data center, created on first use beside the --db file.
    """
    ctx.obj = CliContext(
        db=db or default_db(), read_only=read_only, as_json=as_json, inventory=inventory
    )
    if ctx.invoked_subcommand is None:
        from vdctui.cli.console import console

        ctx.invoke(console)


def _add_global_options(command: click.Command) -> None:
    command.params.extend(
        click.Option(list(decls), expose_value=False, callback=_override, **settings)
        for decls, settings in GLOBAL_OPTIONS
    )


def _prepare(command: click.Command) -> None:
    """Each subcommand, once imported: its own subcommands from other modules (lazy
    too), and the global options (`vm list --json`) on it and all below it."""
    for name, where in SUBCOMMANDS.get(command.name or "", {}).items():
        if isinstance(command, LazyGroup):
            command.lazy.setdefault(name, where)
    _add_global_options(command)
    prepare_all(command, _add_global_options)


assert isinstance(main, LazyGroup)
main.prepare = _prepare
