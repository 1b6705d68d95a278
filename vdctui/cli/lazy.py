"""Subcommands imported when they are used: `vdctui vm list` imports the listing's
modules, not the emulator, the balancer or the TUI (a CLI process's start-up is most of
what a script waits for). `--help` lists them all, so it imports them all."""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module

import click

Prepare = Callable[[click.Command], None]


class LazyGroup(click.Group):
    """A group whose subcommands named in `lazy` ("module:attribute") are imported the
    first time they are asked for; `prepare` is applied to each once loaded (and to the
    subcommands of a group loaded, lazy or not)."""

    def __init__(self, *args: object, lazy: dict[str, str] | None = None, **kwargs: object):
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.lazy: dict[str, str] = dict(lazy or {})
        self.prepare: Prepare | None = None

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy:
            self.add_command(self.load(cmd_name), cmd_name)
        return self.commands.get(cmd_name)

    def load(self, name: str) -> click.Command:
        module, _, attribute = self.lazy[name].partition(":")
        command = getattr(import_module(module), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{self.lazy[name]} is not a click command")
        if self.prepare is not None:
            self.prepare(command)
        return command

    def load_all(self) -> None:
        """Import every subcommand now (tests that walk the whole command tree)."""
        for name in list(self.lazy):
            self.get_command(click.Context(self), name)


def prepare_all(command: click.Command, prepare: Prepare) -> None:
    """`prepare` the subcommands `command` has (its own params are the caller's), and
    those its lazy groups load later."""
    if isinstance(command, LazyGroup):

        def prepare_loaded(sub: click.Command) -> None:
            prepare(sub)
            prepare_all(sub, prepare)

        command.prepare = prepare_loaded
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            prepare(sub)
            prepare_all(sub, prepare)
