"""`vdctui task|migration|pool|audit ...`: what the console remembers."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import Literal, TextIO

import click

from vdctui.cli.context import CliContext, pass_cli
from vdctui.cli.output import Column, print_list
from vdctui.model import AuditProblem, AuditRecord, MigrationRecord, PoolUsage, Task
from vdctui.ops import Console
from vdctui.units import format_bytes, format_mib


def when(ts: float | None) -> str:
    if ts is None:
        return "-"
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S")


TASK_COLUMNS: list[Column] = [
    ("id", lambda t: t.id),
    ("kind", lambda t: t.kind),
    ("target", lambda t: t.target),
    ("state", lambda t: t.state),
    ("progress", lambda t: f"{t.progress:.0f}%"),
    ("actor", lambda t: t.actor),
    ("created", lambda t: when(t.created)),
    ("error", lambda t: t.error or ""),
]

MIGRATION_COLUMNS: list[Column] = [
    ("id", lambda m: m.id),
    ("vm", lambda m: m.vm),
    ("from", lambda m: m.source),
    ("to", lambda m: m.target),
    ("kind", lambda m: m.kind),
    ("started", lambda m: when(m.started)),
    ("outcome", lambda m: m.outcome or "running"),
    ("data", lambda m: format_bytes(m.data_bytes)),
    ("rounds", lambda m: m.rounds),
    ("downtime", lambda m: f"{m.downtime_ms} ms"),
    ("who", lambda m: m.actor),
    ("reason", lambda m: m.reason),
]

POOL_COLUMNS: list[Column] = [
    ("pool", lambda u: u.pool.name),
    ("vms", lambda u: u.vm_count),
    ("running", lambda u: u.running),
    ("vcpus", lambda u: u.vcpus),
    ("memory", lambda u: format_mib(u.memory_mib)),
    ("cpu resv", lambda u: f"{u.pool.cpu_reservation_mhz} MHz"),
    ("cpu limit", lambda u: f"{u.pool.cpu_limit_mhz} MHz" if u.pool.cpu_limit_mhz else "none"),
    ("mem resv", lambda u: format_mib(u.pool.memory_reservation_mib)),
    ("mem limit", lambda u: format_mib(u.pool.memory_limit_mib)
     if u.pool.memory_limit_mib else "none"),
    ("overcommit", lambda u: f"cpu {u.pool.cpu_overcommit:g}x mem {u.pool.memory_overcommit:g}x"),
]

AUDIT_COLUMNS: list[Column] = [
    ("id", lambda a: a.id),
    ("when", lambda a: when(a.ts)),
    ("actor", lambda a: a.actor),
    ("role", lambda a: a.role),
    ("action", lambda a: a.action),
    ("target", lambda a: a.target),
    ("result", lambda a: a.result),
    ("error", lambda a: a.error),
]


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
