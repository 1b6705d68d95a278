"""`vdctui host trust NAME`: accept an SSH host's key after the operator checked it."""

from __future__ import annotations

import asyncio

import click

from vdctui.backend import BackendError
from vdctui.backend_ssh import trust_host_key
from vdctui.cli.context import CliContext, confirm, fail, pass_cli
from vdctui.cli.output import say


@click.command("trust")
@click.argument("name")
@click.option("--yes", "-y", is_flag=True, help="Trust without asking (scripts).")
@pass_cli
def trust(cli: CliContext, name: str, yes: bool) -> None:
    """Show host NAME's SSH key fingerprint and trust it (needs --inventory).

    A key that differs from the one on record is never trusted: remove the old
    one from known_hosts first if the host was really reinstalled.
    """
    if cli.inventory is None:
        fail("`host trust` needs --inventory FILE.toml (the embedded data center has no keys).")
    try:
        message = asyncio.run(
            trust_host_key(
                cli.db,
                cli.inventory,
                name,
                read_only=cli.read_only,
                show=lambda line: say(line, err=True),
                ask=None if yes else confirm,
            )
        )
    except BackendError as exc:
        fail(str(exc))
    say(message)
