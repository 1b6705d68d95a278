"""The `:` line above the footer: type a command, Tab completes, Enter runs, Esc leaves.

Under the line, a hint says what is being typed: the commands that match, the usage of the
command, the names that complete the argument, or why the last line could not run (the line
then stays open with its text, to be fixed).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, Static
from textual.widgets.input import Selection

from vdctui.escape import for_terminal
from vdctui.ui.widgets.prompt import Prompt

# The commands and their completion are imported when the line is first used, not
# before the console's first frame.
if TYPE_CHECKING:
    from vdctui.ui.app import VdcApp
    from vdctui.ui.commands import Command
    from vdctui.ui.completion import Completion


class CommandInput(Prompt):
    """The line itself."""

    BINDINGS = [
        Binding("escape", "close", "Close", id="command-line.close"),
        Binding("tab", "complete", "Complete", id="command-line.complete", show=False),
    ]

    def action_close(self) -> None:
        line = self.parent
        assert isinstance(line, CommandLine)
        line.close()

    def action_complete(self) -> None:
        from vdctui.ui.completion import completed_line

        vdc: Any = self.app
        done = completed_line(vdc.ops, self.value)
        if done is not None:
            self.value = done
            self.cursor_position = len(done)


class CommandLine(Vertical):
    DEFAULT_CSS = """
    CommandLine { display: none; height: auto; background: $boost; }
    CommandLine CommandInput { background: $boost; }
    CommandLine #command-hint { height: auto; max-height: 3; padding: 0 1; color: $text-muted; }
    """

    def __init__(self) -> None:
        super().__init__()
        self._failed: tuple[str, str] | None = None  # the line that could not run, and why

    def compose(self) -> ComposeResult:
        yield CommandInput(
            placeholder=":command  (Tab completes, Enter runs, Esc closes)", select_on_focus=False
        )
        yield Static("", id="command-hint")

    @property
    def _vdc(self) -> VdcApp:
        vdc: VdcApp = self.app  # type: ignore[assignment]
        return vdc

    @property
    def input(self) -> CommandInput:
        return self.query_one(CommandInput)

    @property
    def hint(self) -> Static:
        return self.query_one("#command-hint", Static)

    @property
    def value(self) -> str:
        return self.input.value

    @property
    def is_open(self) -> bool:
        return bool(self.display)

    def open(self, value: str = "") -> None:
        if self.input.suggester is None:
            from vdctui.ui.completion import CommandSuggester

            self.input.suggester = CommandSuggester(self._vdc.ops)
        self.display = True
        self.input.open(value)
        self._show_hint(value)

    def close(self) -> None:
        self.input.value = ""
        self.input.close()
        self.display = False
        self.screen.focus_next()

    def say_error(self, line: str, error: str) -> None:
        """Reopen with the line that failed and why, in red."""
        self.open(line)
        self.input.selection = Selection.cursor(len(line))  # to be fixed, not retyped
        self._failed = (line, error)
        self._show_hint(line)

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        if event.value == self.input.value:  # not a stale one from before a reopen
            self._show_hint(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Run the line in a worker: a command that takes long (`:restart-vms`) leaves the
        line free for the next one."""
        event.stop()
        line = event.value
        self.close()
        self.run_worker(self._run(line), group="command-line")

    async def _run(self, line: str) -> None:
        from vdctui.ui.commands import execute

        error = await execute(self._vdc, line)
        if error is not None:
            self.say_error(line, error)

    def _show_hint(self, value: str) -> None:
        if self._failed is not None and self._failed[0] == value:
            self.hint.update(Text(for_terminal(self._failed[1]), style="bold red"))
            return
        from vdctui.ui.completion import complete

        self._failed = None
        self.hint.update(hint_for(complete(self._vdc.ops, value)))


def usage_line(command: Command) -> Text:
    text = Text(f":{command.name} {command.args}".rstrip(), style="bold")
    text.append(f"  {command.help}")
    return text


def hint_for(done: Completion) -> Text:
    """What to show under the line for where it stands."""
    if done.kind == "command":
        if done.command is not None:  # a whole name (or alias) is typed
            text = usage_line(done.command)
            others = tuple(c for c in done.candidates if c != done.prefix)
            if others:  # `:mig` is :migrations, and Tab would make it :migrate
                text.append("\n")
                text.append_text(_listed("also", others))
            return text
        if not done.prefix:
            return Text("Type a command (Tab completes); ctrl+a lists them all, :help explains.")
        if not done.candidates:
            return Text(f"No command starts with {done.prefix!r}.", style="yellow")
        return _listed("commands", done.candidates)
    if done.command is None:
        return Text(f"No command {done.prefix!r}; Esc, then ctrl+a lists them.", style="yellow")
    text = usage_line(done.command)
    if done.kind:  # what the argument being typed can be (all of them, before a letter)
        text.append("\n")
        text.append_text(_listed(f"{done.kind}s", done.candidates))
    return text


def _listed(what: str, names: tuple[str, ...]) -> Text:
    from vdctui.ui.completion import SHOWN

    if not names:
        return Text(f"No {what} start with that.", style="yellow")
    more = f"  (+{len(names) - SHOWN} more)" if len(names) > SHOWN else ""
    shown = "  ".join(for_terminal(name) for name in names[:SHOWN])
    return Text(f"{what}: {shown}{more}", style="cyan")
