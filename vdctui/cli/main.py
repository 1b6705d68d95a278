"""`vdctui`: the command line. Global options, then one group per kind of thing."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from vdctui.cli.alerts import alert
from vdctui.cli.balance import balance
from vdctui.cli.config import COMMANDS as CONFIG_COMMANDS
from vdctui.cli.console import console
from vdctui.cli.context import CliContext
from vdctui.cli.cores import add_core_commands
from vdctui.cli.emulate import emulate
from vdctui.cli.ha import ha
from vdctui.cli.hosts import host
from vdctui.cli.operators import operator
from vdctui.cli.records import audit, migration, pool, task
from vdctui.cli.secgroup import secgroup
from vdctui.cli.serial_console import console as vm_console
from vdctui.cli.service import service
from vdctui.cli.snapshot import snapshot
from vdctui.cli.trust import trust
from vdctui.cli.vms import vm


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


def accept_global_options(group: click.Group) -> None:
    """Let every command under `group` take the global options too (`vm list --json`)."""
    for command in group.commands.values():
        command.params.extend(
            click.Option(list(decls), expose_value=False, callback=_override, **settings)
            for decls, settings in GLOBAL_OPTIONS
        )
        if isinstance(command, click.Group):
            accept_global_options(command)


def _global_options(f: Callable[..., None]) -> Callable[..., None]:
    for decls, settings in reversed(GLOBAL_OPTIONS):
        f = click.option(*decls, **settings)(f)
    return f


@click.group(context_settings={"help_option_names": ["-h", "--help"]}, invoke_without_command=True)
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
        ctx.invoke(console)


for command in (
    console,
    emulate,
    host,
    vm,
    task,
    migration,
    pool,
    audit,
    ha,
    balance,
    operator,
    service,
):
    main.add_command(command)
host.add_command(trust)
vm.add_command(snapshot)
vm.add_command(vm_console)
for _command in CONFIG_COMMANDS:
    vm.add_command(_command)
add_core_commands(host, vm)
main.add_command(secgroup)
main.add_command(alert)
accept_global_options(main)
