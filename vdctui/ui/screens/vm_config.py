"""`x` in a VM's detail: its configuration as its host holds it, read-only: the
structured view (CPU, pinning, memory, disks, NICs, boot, autostart) above the domain
XML, syntax-highlighted. Esc closes; `a` in the detail turns autostart on or off."""

from __future__ import annotations

from rich.syntax import Syntax
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from vdctui.escape import for_terminal
from vdctui.ops.config import ConfigLine


def config_text(lines: list[ConfigLine]) -> Text:
    text = Text()
    for line in lines:
        text.append(f"{line.part:<10}", style="bold")
        text.append(for_terminal(line.text) + "\n")
    return text


class VmConfigScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    VmConfigScreen { align: center middle; }
    VmConfigScreen VerticalScroll { width: 90%; height: 90%; border: round $accent;
        background: $surface; padding: 0 1; }
    VmConfigScreen .title { text-style: bold; }
    """
    BINDINGS = [
        Binding("escape,q", "close", "Close", id="vm-config.close"),
        Binding("up", "scroll('up')", "Up", show=False),
        Binding("down", "scroll('down')", "Down", show=False),
        Binding("pageup", "scroll('page_up')", "Page up", show=False),
        Binding("pagedown", "scroll('page_down')", "Page down", show=False),
    ]

    def __init__(self, vm: str, lines: list[ConfigLine], xml: str) -> None:
        super().__init__()
        self.vm = vm
        self.lines = lines
        self.xml = xml

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="vm-config"):
            yield Static(
                Text(f"{for_terminal(self.vm)}: its configuration (read-only; Esc closes)"),
                classes="title",
            )
            yield Static(config_text(self.lines), id="vm-config-structured")
            safe = "\n".join(for_terminal(line) for line in self.xml.splitlines())
            yield Static(Syntax(safe, "xml", theme="monokai", word_wrap=True), id="vm-config-xml")

    def action_scroll(self, direction: str) -> None:
        body = self.query_one(VerticalScroll)
        moves = {
            "up": body.scroll_up,
            "down": body.scroll_down,
            "page_up": body.scroll_page_up,
            "page_down": body.scroll_page_down,
        }
        moves[direction](animate=False)

    def action_close(self) -> None:
        self.dismiss(None)
