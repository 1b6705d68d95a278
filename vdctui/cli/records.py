"""`vdctui task|migration|pool|audit ...`: what the console remembers."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import Any, Literal, TextIO

import click

from vdctui import checks
from vdctui.cli.context import CliContext, pass_cli
from vdctui.cli.default_command import ListsByDefault
from vdctui.cli.output import nothing_matches, plain, print_json, print_list, say
from vdctui.cli.params import ROWS, FiniteNumber, Name, WholeNumber
from vdctui.columns import AUDIT_COLUMNS, MIGRATION_COLUMNS, POOL_COLUMNS, TASK_COLUMNS
from vdctui.model import (
    AuditCheck,
    AuditRecord,
    AuditSeal,
    MigrationRecord,
    Pool,
    PoolUsage,
    Task,
)
from vdctui.ops import Console, Refused
from vdctui.units import format_duration, format_mib, parse_duration_s, parse_memory_mib


@click.group("task", cls=ListsByDefault)
def task() -> None:
    """Tasks: list them (the default: `vdctui task --active` lists the running ones),
    cancel one."""


@task.command("list")
@click.option("--active", is_flag=True, help="Only queued and running tasks.")
@click.option("--limit", type=ROWS, default=50, show_default=True)
@pass_cli
def task_list(cli: CliContext, active: bool, limit: int) -> None:
    """Running and recent tasks."""

    async def body(console: Console) -> list[Task]:
        return console.tasks(active=True if active else None, limit=limit)

    print_list(
        cli.run(body, sync=False, fleet=False),
        TASK_COLUMNS,
        as_json=cli.as_json,
        empty=nothing_matches("task", {"active": active}, empty="No tasks."),
    )


@task.command("cancel")
@click.argument("task_id", metavar="TASK", type=WholeNumber(1, checks.MAX_TASK_ID))
@pass_cli
def task_cancel(cli: CliContext, task_id: int) -> None:
    """Cancel a running task where it runs: a migration at once, a balance or an HA
    restart after the step under way, an evacuation (its moves under way aborted).
    Waits for the task to end and says how it ended."""

    from vdctui.ops import cancelling

    async def body(console: Console) -> Task:
        await console.cancel_task(task_id)
        say(f"{cancelling.asked(console.task(task_id))} Waiting for it to end ...", err=True)
        return await cancelling.until_ended(console, task_id)

    ended = cli.run(body, sync=False)
    if cli.as_json:
        print_json([ended])
        return
    say(f"task {ended.id} ({ended.kind}): {ended.error or ended.state}")


@click.command("migration")
@click.argument("verb", type=click.Choice(["list"]), default="list")
@click.option("--vm", help="Only this VM's migrations.")
@click.option("--host", help="Only migrations from or to this host.")
@click.option("--limit", type=ROWS, default=50, show_default=True)
@pass_cli
def migration(cli: CliContext, verb: str, vm: str | None, host: str | None, limit: int) -> None:
    """The migration history (`vdctui migration list [--vm NAME]`)."""

    async def body(console: Console) -> list[MigrationRecord]:
        found = console.migrations(vm=vm, host=host, limit=limit)
        if not found:
            await _known(console, vm=vm, host=host)  # no such VM or host is an error
        return found

    print_list(
        cli.run(body, sync=False),
        MIGRATION_COLUMNS,
        as_json=cli.as_json,
        empty=nothing_matches(
            "migration", {"vm": vm, "host": host}, empty="No migrations recorded."
        ),
    )


async def _known(console: Console, *, vm: str | None, host: str | None) -> None:
    """Refuse (no such VM / host) unless each name given is one the fleet knows; a
    store that has not synced yet is synced first, as it may not know them yet."""

    def check() -> None:
        if vm is not None:
            console.vm(vm)
        if host is not None:
            console.host(host)

    try:
        check()
    except Refused:
        await console.sync()
        check()


@click.group("pool", cls=ListsByDefault)
def pool() -> None:
    """Resource pools: list them (the default), create one, set its reservations."""


@pool.command("list")
@pass_cli
def pool_list(cli: CliContext) -> None:
    """Resource pools with their reservations, limits and what they hold."""

    async def body(console: Console) -> list[PoolUsage]:
        return console.pools()

    print_list(cli.run(body), POOL_COLUMNS, as_json=cli.as_json, empty="No pools.")


SHARES = WholeNumber(1, checks.MAX_SHARES)
OVERCOMMIT = FiniteNumber(1, checks.MAX_OVERCOMMIT)


def _pool_settings(f):  # type: ignore[no-untyped-def]
    sizes = click.option
    f = sizes(
        "--cpu-reservation",
        "cpu_reservation_mhz",
        type=WholeNumber(0, checks.MAX_MHZ, "MHz"),
        help="MHz guaranteed to the pool.",
    )(f)
    f = sizes(
        "--cpu-limit",
        "cpu_limit_mhz",
        type=WholeNumber(0, checks.MAX_MHZ, "MHz"),
        help="MHz the pool may use at most (0: none).",
    )(f)
    f = sizes(
        "--memory-reservation",
        "memory_reservation_mib",
        callback=_memory_or_none,
        help="Memory guaranteed to the pool (8GiB ...).",
    )(f)
    f = sizes(
        "--memory-limit",
        "memory_limit_mib",
        callback=_memory_or_none,
        help="Memory the pool may use at most (0: none).",
    )(f)
    f = sizes("--cpu-shares", type=SHARES, help="Relative CPU priority.")(f)
    f = sizes("--memory-shares", type=SHARES, help="Relative memory priority.")(f)
    f = sizes("--cpu-overcommit", type=OVERCOMMIT, help="vCPUs per CPU, at most.")(f)
    f = sizes("--memory-overcommit", type=OVERCOMMIT, help="Memory overcommit ratio, at most.")(f)
    return f


def _memory_or_none(_ctx: click.Context, _param: click.Parameter, value: str | None) -> int | None:
    if value is None or value.strip() == "0":
        return None if value is None else 0
    try:
        return parse_memory_mib(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _set_pool(cli: CliContext, name: str, create: bool, settings: dict[str, Any]) -> None:
    changes = {key: value for key, value in settings.items() if value is not None}

    async def body(console: Console) -> Pool:
        return await console.set_pool(name, create=create, **changes)

    done = cli.run(body, shares=True)
    memory_limit = format_mib(done.memory_limit_mib) if done.memory_limit_mib else "none"
    say(
        f"pool {done.name}: cpu {done.cpu_reservation_mhz} MHz reserved, limit "
        f"{done.cpu_limit_mhz or 'none'}; memory "
        f"{format_mib(done.memory_reservation_mib)} reserved, limit {memory_limit}"
    )


@pool.command("create")
@click.argument("name", type=Name("pool"))
@_pool_settings
@pass_cli
def pool_create(cli: CliContext, name: str, **settings: Any) -> None:
    """Create a pool (then create VMs into it with `vm create --pool NAME`)."""
    _set_pool(cli, name, True, settings)


@pool.command("set")
@click.argument("name")
@_pool_settings
@pass_cli
def pool_set(cli: CliContext, name: str, **settings: Any) -> None:
    """Change a pool's reservations, limits, shares or overcommit ratios (admin)."""
    if all(value is None for value in settings.values()):
        raise click.UsageError("Say what to change (see --help).")
    _set_pool(cli, name, False, settings)


@click.group()
def audit() -> None:
    """The tamper-evident audit log: list, verify, export, seal."""


def _audit_filters(f):  # type: ignore[no-untyped-def]
    f = click.option("--actor", help="Only this actor's records.")(f)
    f = click.option("--action", help="Only this action (vm.start, vm.migrate, ...).")(f)
    f = click.option("--target", help="Only records about this VM/host/task.")(f)
    return f


@audit.command("list")
@_audit_filters
@click.option("--limit", type=ROWS, default=50, show_default=True)
@pass_cli
def audit_list(
    cli: CliContext, actor: str | None, action: str | None, target: str | None, limit: int
) -> None:
    """The newest audit records first."""

    async def body(console: Console) -> list[AuditRecord]:
        return console.audit(actor=actor, action=action, target=target, limit=limit)

    print_list(
        cli.run(body, sync=False, fleet=False),
        AUDIT_COLUMNS,
        as_json=cli.as_json,
        empty=nothing_matches(
            "audit record",
            {"actor": actor, "action": action, "target": target},
            empty="The audit log is empty.",
        ),
    )


@audit.command("verify")
@click.option("--key", help="The auditor's seal key (from `audit seal init`): check every seal.")
@click.option(
    "--key-file",
    type=click.File("r"),
    help="Read the seal key from a file ('-': stdin), keeping it out of the shell history.",
)
@pass_cli
def audit_verify(cli: CliContext, key: str | None, key_file: TextIO | None) -> None:
    """Check the hash chain, and with the seal key every seal; name every edited,
    deleted or reordered record (exit 1)."""
    if key is not None and key_file is not None:
        raise click.UsageError("Give the seal key once: --key or --key-file.")
    if key_file is not None:
        key = key_file.read().strip()

    async def body(console: Console) -> AuditCheck:
        return console.check_audit(key=key)

    check = cli.run(body, sync=False, fleet=False)
    if cli.as_json:
        click.echo(json.dumps(plain(check), indent=2, allow_nan=False))  # ASCII only
    else:
        if not check.problems:
            holds = " Every seal holds." if check.seal_checked else ""
            say(
                f"The audit chain is intact: {check.records:,} "
                f"record{'' if check.records == 1 else 's'}, head "
                f"{check.head_hash[:16]}.{holds}"
            )
        for note in check.notes:
            say(f"{note[:1].upper()}{note[1:]}.", err=note.startswith("warning:"))
        for problem in check.problems:
            where = f"record {problem.record_id}" if problem.record_id else "file"
            say(f"{where}: {problem.problem}", err=True)
    if check.problems:
        sys.exit(1)


@audit.group("seal")
def audit_seal() -> None:
    """Forward-secure sealing: records of past epochs cannot be rewritten unseen."""


@audit_seal.command("init")
@click.option(
    "--epoch",
    "epoch",
    default="15m",
    show_default=True,
    help="How long each key lasts (1s .. 1d): what a takeover of this machine can rewrite.",
)
@click.option("--replace", is_flag=True, help="End the current seal and begin a new one.")
@pass_cli
def audit_seal_init(cli: CliContext, epoch: str, replace: bool) -> None:
    """Begin sealing the audit log (admin) and print the verification key, once."""
    try:
        epoch_s = parse_duration_s(epoch)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--epoch") from None
    if not 1 <= epoch_s <= 86_400:
        raise click.BadParameter("an epoch lasts from 1s to 1d", param_hint="--epoch")

    async def body(console: Console) -> str:
        return await console.seal_audit(epoch_s=epoch_s, replace=replace)

    key = cli.run(body, sync=False)
    click.echo(key)
    click.echo(
        "This is the audit log's verification key. It is shown once and not kept here: "
        "store it away from this machine. Check the log with "
        "`vdctui audit verify --key-file FILE`.",
        err=True,
    )


def when(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


@audit_seal.command("status")
@pass_cli
def audit_seal_status(cli: CliContext) -> None:
    """Whether the audit log is sealed, since when, and its current epoch."""

    async def body(console: Console) -> AuditSeal | None:
        return console.audit_seal()

    seal = cli.run(body, sync=False)
    if cli.as_json:
        click.echo(json.dumps(plain(seal), indent=2, allow_nan=False))
    elif seal is None:
        click.echo("The audit log is not sealed (`vdctui audit seal init` seals it).")
    else:
        first = "—" if seal.first_id is None else str(seal.first_id)
        click.echo(
            f"Sealed since {when(seal.started)} from record {first} (seal {seal.seal_id}); "
            f"epochs of {format_duration(seal.epoch_s)}, now epoch {seal.epoch}; "
            + (
                f"records before {when(seal.started + seal.epoch * seal.epoch_s)} can no "
                "longer be re-sealed here."
                if seal.epoch
                else "the first epoch's key is the auditor's key until it ends."
            )
        )


@audit.command("export")
@_audit_filters
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True
)
@click.option("--output", "-o", type=click.File("w"), default="-", help="File (default stdout).")
@pass_cli
def audit_export(
    cli: CliContext,
    actor: str | None,
    action: str | None,
    target: str | None,
    fmt: Literal["csv", "json"],
    output: TextIO,
) -> None:
    """Export the audit log (oldest first) as CSV or JSON."""

    async def body(console: Console) -> None:
        console.export_audit(fmt, output, actor=actor, action=action, target=target)

    cli.run(body, sync=False, fleet=False)
