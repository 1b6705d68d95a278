"""Subcommands are imported when used (vdctui.cli.lazy): `vdctui vm list` starts without
importing the emulator, the TUI, SSH, numpy or the balancer; every subcommand is still
there under its name, with the global options."""

from __future__ import annotations

import subprocess
import sys

import click

from vdctui.cli.lazy import LazyGroup
from vdctui.cli.main import main

NOT_FOR_A_READ = ("emulator", "textual", "rich", "asyncssh", "numpy", "sqlite_utils")
NOT_FOR_A_READ_VDCTUI = ("vdctui.ops.balancer", "vdctui.drivers.emulated", "vdctui.ui")


def every_command(group: click.Group, path: str = "") -> dict[str, click.Command]:
    if isinstance(group, LazyGroup):
        group.load_all()
    found: dict[str, click.Command] = {}
    for name, command in group.commands.items():
        found[f"{path}{name}"] = command
        if isinstance(command, click.Group):
            found |= every_command(command, f"{path}{name} ")
    return found


def test_each_lazy_subcommand_is_found_under_its_name_with_the_global_options() -> None:
    commands = every_command(main)
    for must in ("vm list", "vm snapshot list", "vm cpu-policy", "host trust", "alert list"):
        assert must in commands
    for path, command in commands.items():
        assert path.rsplit(" ", 1)[-1] == command.name, path
        options = {o for p in command.params if isinstance(p, click.Option) for o in p.opts}
        assert {"--db", "--json", "--read-only", "--inventory"} <= options, path


def test_vm_list_imports_only_what_a_read_needs() -> None:
    code = (
        "import sys, click\n"
        "from vdctui.cli.main import main\n"
        "ctx = click.Context(main)\n"
        "vm = main.get_command(ctx, 'vm')\n"
        "assert vm.get_command(click.Context(vm), 'list') is not None\n"
        "import vdctui.backend, vdctui.cli.context\n"
        "print('\\n'.join(sorted(sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout
    loaded = set(out.split())
    early = {m for m in loaded if m.split(".")[0] in NOT_FOR_A_READ}
    early |= {m for m in loaded if m.startswith(NOT_FOR_A_READ_VDCTUI)}
    assert not early, sorted(early)
