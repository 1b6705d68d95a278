"""`vdctui console` (and plain `vdctui`): open the TUI."""

from __future__ import annotations

import sqlite3
import sys
from typing import TYPE_CHECKING

import click

from vdctui.backend import BackendError, explain_for
from vdctui.cli.context import CliContext, fail, pass_cli
from vdctui.cli.params import SPEED
from vdctui.cli.traces import HELP as TRACES_HELP
from vdctui.cli.traces import TRACES, new_traced_size

if TYPE_CHECKING:
    from emulator.traced import RecordedDay


@click.command()
@click.option(
    "--speed",
    type=SPEED,
    default=1.0,
    show_default=True,
    help="Virtual seconds per wall second for the emulated fleet (+/- change it).",
)
@click.option(
    "--traces",
    type=TRACES,
    default=None,
    help=f"{TRACES_HELP} Only where --db holds no data center yet.",
)
@pass_cli
def console(cli: CliContext, speed: float, traces: RecordedDay | None) -> None:
    """Open the operator console: on the embedded emulated data center, or on the
    hosts of --inventory over SSH."""
    from vdctui.ui.launch import console_app, ssh_console_app  # textual only for the TUI

    try:
        if cli.inventory is not None:
            app = ssh_console_app(cli.db, cli.inventory, read_only=cli.read_only)
        else:
            size = None if traces is None else new_traced_size(cli, traces)
            app = console_app(cli.db, read_only=cli.read_only, speed=speed, size=size)
    except (BackendError, ValueError) as exc:
        fail(str(exc))
    except (sqlite3.Error, OSError) as exc:
        fail(explain_for(cli.db)(exc))
    app.run()
    if app.return_code:  # Textual printed what went wrong; a script must see it too
        sys.exit(app.return_code)
