"""Asking before a change, and saying why one cannot be made.

The whole text is shown: a title that wraps, then a body that scrolls (arrows, PageUp,
PageDown) however long it is (18 moves of a balance, every VM that blocks a maintenance).
The keys are written on the buttons: `y` confirms; `n` or Esc cancels; Enter presses the
focused button, which is the safe one.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from vdctui.escape import for_terminal

DIALOG_CSS = """
{name} {{ align: center middle; }}
{name} > Vertical {{ width: 96; max-width: 95%; height: auto; max-height: 95%;
    border: thick $accent; background: $surface; padding: 0 1; }}
{name} .title {{ text-style: bold; width: 1fr; height: auto; }}
{name} .why {{ color: $error; height: auto; }}
{name} .keys {{ color: $text-muted; height: auto; }}
{name} VerticalScroll {{ height: auto; max-height: 50vh; margin-top: 1; }}
{name} Horizontal {{ height: auto; margin-top: 1; }}
{name} Button {{ margin-right: 2; }}
"""
SCROLL_KEYS = [
    Binding("up", "scroll_body('up')", "Scroll up", show=False),
    Binding("down", "scroll_body('down')", "Scroll down", show=False),
    Binding("pageup", "scroll_body('page_up')", "Page up", show=False),
    Binding("pagedown", "scroll_body('page_down')", "Page down", show=False),
]


@dataclass(frozen=True)
class Question:
    """What a confirmation says: one sentence, the details, and the verb of the change."""

    title: str
    body: tuple[str, ...] = ()
    verb: str = "Yes"


class _Scrolling(ModalScreen[bool]):
    def _body(self, lines: tuple[str, ...]) -> ComposeResult:
        if lines:
            with VerticalScroll(id="body"):
                yield Static(Text("\n".join(for_terminal(line) for line in lines)))

    def action_scroll_body(self, direction: str) -> None:
        for body in self.query("#body").results(VerticalScroll):
            moves = {
                "up": body.scroll_up,
                "down": body.scroll_down,
                "page_up": body.scroll_page_up,
                "page_down": body.scroll_page_down,
            }
            moves[direction](animate=False)


class ConfirmDialog(_Scrolling):
    """Ask before a change: `y` (or its button) confirms; `n`, Esc (or Cancel) does not."""

    DEFAULT_CSS = DIALOG_CSS.format(name="ConfirmDialog")
    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="confirm.yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm.no"),
        *SCROLL_KEYS,
    ]

    def __init__(self, question: Question) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        q = self.question
        with Vertical():
            yield Static(Text(for_terminal(q.title)), classes="title")
            yield from self._body(q.body)
            yield Static(Text(f"y: {q.verb}   n or Esc: cancel, nothing changes"), classes="keys")
            with Horizontal():
                yield Button(f"{q.verb} (y)", variant="error", id="yes")
                yield Button("Cancel (n, Esc)", id="no")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")


class MessageDialog(_Scrolling):
    """Say why something cannot be done, with every reason; only Close (Enter, Esc)."""

    DEFAULT_CSS = DIALOG_CSS.format(name="MessageDialog")
    BINDINGS = [Binding("escape,n,q", "close", "Close", id="message.close"), *SCROLL_KEYS]

    def __init__(self, title: str, body: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.title_text = title
        self.body = body

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(for_terminal(self.title_text)), classes="title why")
            yield from self._body(self.body)
            with Horizontal():
                yield Button("Close (Enter, Esc)", id="close")

    def on_mount(self) -> None:
        self.query_one("#close", Button).focus()

    @on(Button.Pressed)
    def action_close(self) -> None:
        self.dismiss(False)
