"""A group that runs one of its commands when given none: `vdctui task` lists the tasks,
and `vdctui task --active` is `vdctui task list --active`, as it was before `task` became
a group (with `task cancel N`). The group's own options (`--help`, the global ones) stay
the group's; an option that is not the group's is the default command's, and a mistake in
it is said as that command's (`vdctui task list`: No such option: --activ)."""

from __future__ import annotations

from typing import Any

import click


class ListsByDefault(click.Group):
    """A group whose `default_command` (its listing) runs when no command is named, with
    the arguments given to the group."""

    def __init__(self, *args: Any, default_command: str = "list", **kwargs: Any) -> None:
        kwargs.setdefault("invoke_without_command", True)
        super().__init__(*args, **kwargs)
        self.default_command = default_command
        own = self.callback

        def run_the_default_when_no_command(*args: Any, **kwargs: Any) -> Any:
            done = own(*args, **kwargs) if own is not None else None
            ctx = click.get_current_context()
            if ctx.invoked_subcommand is not None:  # `vdctui task cancel 7`
                return done
            return ctx.invoke(self.commands[self.default_command])  # `vdctui task --json`

        self.callback = run_the_default_when_no_command

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, list(args))
        except click.NoSuchOption:  # not the group's: the listing's (or a mistake in it)
            return super().parse_args(ctx, [self.default_command, *args])

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is None or command.hidden:
                continue
            short = command.get_short_help_str(formatter.width - 6 - len(name))
            rows.append((name, f"(the default) {short}" if name == self.default_command else short))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        default = self.get_command(ctx, self.default_command)
        if default is not None:
            own = {opt for param in self.params for opt in getattr(param, "opts", ())}
            theirs = [
                param.opts[0]
                for param in default.params
                if isinstance(param, click.Option) and param.opts[0] not in own
            ]
            path, name = ctx.command_path, self.default_command
            said = f"Without a command: `{path} {name}`"
            if theirs:
                said += (
                    f"; its options ({', '.join(theirs)}) may be given without its name: "
                    f"`{path} {theirs[0]}` is `{path} {name} {theirs[0]}`"
                )
            formatter.write_paragraph()
            formatter.write_text(said + ".")
        super().format_epilog(ctx, formatter)
