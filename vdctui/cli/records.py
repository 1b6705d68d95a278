"""`vdctui task|migration|pool|audit ...`: what the console remembers."""

from __future__ import annotations

import sys
from typing import Literal, TextIO

import click

from vdctui.cli.context import CliContext, pass_cli
from vdctui.cli.output import print_list
from vdctui.columns import AUDIT_COLUMNS, MIGRATION_COLUMNS, POOL_COLUMNS, TASK_COLUMNS
from vdctui.model import AuditProblem, AuditRecord, MigrationRecord, PoolUsage, Task
from vdctui.ops import Console


@click.command("task")
@click.argument("verb", type=click.Choice(["list"]), default="list")
@click.option("--active", is_flag=True, help="Only queued and running tasks.")
@click.option("--limit", type=click.IntRange(1), default=50, show_default=True)
@pass_cli
def task(cli: CliContext, verb: str, active: bool, limit: int) -> None:
    """Tasks: running and recent work (`vdctui task list`)."""

    async def body(console: Console) -> list[Task]:
        return console.tasks(active=True if active else None, limit=limit)

    print_list(cli.run(body, sync=False), TASK_COLUMNS, as_json=cli.as_json, empty="No tasks.")


@click.command("migration")
@click.argument("verb", type=click.Choice(["list"]), default="list")
@click.option("--vm", help="Only this VM's migrations.")
@click.option("--host", help="Only migrations from or to this host.")
@click.option("--limit", type=click.IntRange(1), default=50, show_default=True)
@pass_cli
def migration(cli: CliContext, verb: str, vm: str | None, host: str | None, limit: int) -> None:
    """The migration history (`vdctui migration list [--vm NAME]`)."""

    async def body(console: Console) -> list[MigrationRecord]:
        return console.migrations(vm=vm, host=host, limit=limit)

    print_list(cli.run(body, sync=False), MIGRATION_COLUMNS, as_json=cli.as_json,
               empty="No migrations recorded.")


@click.command("pool")
@click.argument("verb", type=click.Choice(["list"]), default="list")
@pass_cli
def pool(cli: CliContext, verb: str) -> None:
    """Resource pools with their reservations, limits and what they hold."""

    async def body(console: Console) -> list[PoolUsage]:
        return console.pools()

    print_list(cli.run(body), POOL_COLUMNS, as_json=cli.as_json, empty="No pools.")


@click.group()
def audit() -> None:
    """The tamper-evident audit log: list, verify, export."""


def _audit_filters(f):  # type: ignore[no-untyped-def]
    f = click.option("--actor", help="Only this actor's records.")(f)
    f = click.option("--action", help="Only this action (vm.start, vm.migrate, ...).")(f)
    f = click.option("--target", help="Only records about this VM/host/task.")(f)
    return f


@audit.command("list")
@_audit_filters
@click.option("--limit", type=click.IntRange(1), default=50, show_default=True)
@pass_cli
def audit_list(cli: CliContext, actor: str | None, action: str | None, target: str | None,
               limit: int) -> None:
    """The newest audit records first."""

    async def body(console: Console) -> list[AuditRecord]:
        return console.audit(actor=actor, action=action, target=target, limit=limit)

    print_list(cli.run(body, sync=False), AUDIT_COLUMNS, as_json=cli.as_json,
               empty="The audit log is empty.")


@audit.command("verify")
@pass_cli
def audit_verify(cli: CliContext) -> None:
    """Check the hash chain; name every edited, deleted or reordered record (exit 1)."""

    async def body(console: Console) -> list[AuditProblem]:
        return console.verify_audit()

    problems = cli.run(body, sync=False)
    if cli.as_json:
        print_list(problems, [], as_json=True, empty="")
    elif not problems:
        click.echo("The audit chain is intact.")
    for problem in problems if not cli.as_json else []:
        click.echo(f"record {problem.record_id}: {problem.problem}", err=True)
    if problems:
        sys.exit(1)


@audit.command("export")
@_audit_filters
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv",
              show_default=True)
@click.option("--output", "-o", type=click.File("w"), default="-", help="File (default stdout).")
@pass_cli
def audit_export(cli: CliContext, actor: str | None, action: str | None, target: str | None,
                 fmt: Literal["csv", "json"], output: TextIO) -> None:
    """Export the audit log (oldest first) as CSV or JSON."""

    async def body(console: Console) -> None:
        console.export_audit(fmt, output, actor=actor, action=action, target=target)

    cli.run(body, sync=False)
