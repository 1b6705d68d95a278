"""`vdctui vm migrate`'s options beyond --copy-storage and --auto-converge, each explained in
one line, and `--check` / `--force` around the pre-flight check (vdctui.ops.preflight)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from vdctui.cli.output import print_list, say
from vdctui.cli.params import WholeNumber
from vdctui.columns import Column
from vdctui.model import MigrationOptions
from vdctui.ops.preflight import OPTION_HELP, Preflight, Verdict

PREFLIGHT_COLUMNS: list[Column] = [
    ("check", lambda c: c.name),
    ("verdict", lambda c: c.verdict.value.upper()),
    ("why", lambda c: c.reason),
]


def _sentence(option: str) -> str:
    text = OPTION_HELP[option]
    return text[:1].upper() + text[1:] + "."


def migration_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add the options (they arrive in the command's **more)."""
    decorators = [
        click.option(
            "--copy-storage-inc",
            is_flag=True,
            help="Copy the disks incrementally (both hosts share their base images).",
        ),
        click.option("--compressed", is_flag=True, help=_sentence("compressed")),
        click.option("--postcopy", is_flag=True, help=_sentence("postcopy")),
        click.option(
            "--bandwidth",
            type=WholeNumber(1, 1_000_000),
            metavar="MIB_S",
            help=_sentence("bandwidth_mib_s"),
        ),
        click.option(
            "--max-downtime",
            type=WholeNumber(1, 600_000),
            metavar="MS",
            help=_sentence("max_downtime_ms"),
        ),
        click.option("--tunnelled", is_flag=True, help=_sentence("tunnelled")),
        click.option(
            "--check",
            is_flag=True,
            help="Only run the pre-flight check (CPU, storage, network, room, snapshots, "
            "devices) and say pass, warn or fail for each; changes nothing.",
        ),
        click.option(
            "--force",
            is_flag=True,
            help="Migrate even when a pre-flight check fails (the hypervisor may still refuse); "
            "with --drain, drain even a service's last healthy member.",
        ),
    ]
    for decorator in reversed(decorators):
        command = decorator(command)
    return command


def options_from(copy_storage: bool, auto_converge: bool, more: dict[str, Any]) -> MigrationOptions:
    if copy_storage and more["copy_storage_inc"]:
        raise click.UsageError("Say --copy-storage or --copy-storage-inc, not both.")
    copy = "full" if copy_storage else "incremental" if more["copy_storage_inc"] else ""
    return MigrationOptions(
        copy_storage=copy,
        compressed=more["compressed"],
        auto_converge=auto_converge,
        postcopy=more["postcopy"],
        bandwidth_mib_s=more["bandwidth"],
        max_downtime_ms=more["max_downtime"],
        tunnelled=more["tunnelled"],
    )


def print_preflight(report: Preflight, *, as_json: bool) -> None:
    if as_json:
        print_list(list(report.checks), PREFLIGHT_COLUMNS, as_json=True, empty="")
        return
    say(f"pre-flight: {report.vm} {report.source} -> {report.target} ({report.kind})")
    print_list(list(report.checks), PREFLIGHT_COLUMNS, as_json=False, empty="")
    verdict = report.verdict
    end = {
        Verdict.PASS: "every check passes",
        Verdict.WARN: "it may move; read the warnings",
        Verdict.FAIL: "it would be refused (--force moves it anyway)",
    }[verdict]
    say(f"{verdict.value.upper()}: {end}")
