"""Help for where you are: the keys of this screen, its filter syntax, every `:` command.

`?` and `:help` open it over the current screen; Esc (or `?`, `q`) closes it. ctrl+a shows
the `:` commands alone and opens the command line on the one chosen.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option

from vdctui.ui.commands import ALIASES, COMMANDS, Command
from vdctui.ui.widgets.command_line import CommandInput
from vdctui.ui.widgets.prompt import Prompt

HELP_CSS = """
{name} {{ align: center middle; }}
{name} > Vertical {{ width: 100; max-width: 95%; height: auto; max-height: 90%;
    border: thick $accent; background: $surface; padding: 0 1; }}
{name} .title {{ text-style: bold; }}
{name} VerticalScroll {{ height: auto; max-height: 100%; }}
{name} OptionList {{ height: auto; max-height: 100%; }}
"""


@dataclass(frozen=True)
class ScreenHelp:
    """What help says about one screen."""

    title: str
    keys: tuple[tuple[str, str], ...]  # (key as shown, what it does)
    filter_syntax: str  # "" when the screen has no filter


def help_for(screen: Screen[object]) -> ScreenHelp:
    """The keys the screen and the app answer to (a widget's own cursor keys left out), and
    the syntax its filter line offers."""
    app = screen.app
    keys: list[tuple[str, str]] = []
    for key, active in screen.active_bindings.items():
        if active.node is not screen and active.node is not app or active.binding.id is None:
            continue  # a widget's own keys, or Textual's (ours all have ids, for keymaps)
        what = active.binding.description
        if key == "escape" and active.node is screen:
            what += "; with nothing to clear, back to the screen before"
        row = (app.get_key_display(active.binding), what)
        if row not in keys:
            keys.append(row)
    # Textual's own key, kept out of the footer so the footer fits 100 columns
    keys.append(("ctrl+p", "the command palette: the same commands, and themes"))
    filters = [p.placeholder for p in screen.query(Prompt) if not isinstance(p, CommandInput)]
    return ScreenHelp(
        title=_screen_name(screen),
        keys=tuple(keys),
        filter_syntax=filters[0] if filters else "",
    )


def _screen_name(screen: Screen[object]) -> str:
    """The name the operator knows it by: the description of the key that shows it."""
    mode = screen.app.current_mode
    for binding in screen.app.BINDINGS:
        if isinstance(binding, Binding) and binding.id == f"screen.{mode}":
            return binding.description
    return mode.capitalize()


def commands_table() -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold cyan", no_wrap=True)
    table.add_column()
    aliases: dict[str, list[str]] = {}
    for alias, name in ALIASES.items():
        aliases.setdefault(name, []).append(alias)
    for command in COMMANDS.values():
        also = f" (also :{', :'.join(aliases[command.name])})" if command.name in aliases else ""
        table.add_row(Text(_usage(command)), Text(command.help + also))
    return table


def _usage(command: Command) -> str:
    return f":{command.name} {command.args}".rstrip()


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = HELP_CSS.format(name="HelpScreen")
    BINDINGS = [
        Binding("escape,question_mark,q", "close", "Close", id="help.close"),
    ]

    def __init__(self, about: ScreenHelp) -> None:
        super().__init__()
        self.about = about

    def compose(self) -> ComposeResult:
        about = self.about
        with Vertical():
            yield Label(f"Help: {about.title}  (Esc closes; arrows scroll)", classes="title")
            with VerticalScroll():
                keys = Table.grid(padding=(0, 2))
                keys.add_column(style="bold cyan", no_wrap=True)
                keys.add_column()
                for key, what in about.keys:
                    keys.add_row(Text(key), Text(what))
                yield Static(Text("Keys", style="bold underline"))
                yield Static(keys)
                if about.filter_syntax:
                    yield Static(
                        Text("\nFilter (/, typing filters at once)", style="bold underline")
                    )
                    yield Static(Text(about.filter_syntax))
                yield Static(
                    Text("\n: commands (Tab completes, Enter runs)", style="bold underline")
                )
                yield Static(commands_table())

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).focus()

    def action_close(self) -> None:
        self.dismiss(None)


class CommandsDialog(ModalScreen[str | None]):
    """ctrl+a: every `:` command with its arguments; Enter gives the chosen one's name."""

    DEFAULT_CSS = HELP_CSS.format(name="CommandsDialog")
    BINDINGS = [Binding("escape", "close", "Close", id="commands.close")]

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(": commands  (Enter starts the line; Esc closes)", classes="title")
            options = []
            for command in COMMANDS.values():
                line = Text(f"{_usage(command):<36}", style="bold cyan")
                line.append(command.help)
                options.append(Option(line, id=command.name))
            yield OptionList(*options)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_close(self) -> None:
        self.dismiss(None)
