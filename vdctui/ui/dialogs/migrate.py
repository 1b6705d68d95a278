"""Migrate: the hosts that can take the VM, best first with their score, then every
excluded host with the reason (Tab reaches them). Returns the host chosen, or None."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from vdctui.escape import for_terminal
from vdctui.model import Host
from vdctui.ui.dialogs.ask import DIALOG_CSS
from vdctui.units import format_mib, format_percent


@dataclass(frozen=True)
class Target:
    """A host as the dialog shows it: its score (higher is better) and added watts when it
    can take the VM; else why not."""

    host: Host
    score: float | None = None
    watts: float | None = None
    reason: str | None = None


class MigrateDialog(ModalScreen[str | None]):
    DEFAULT_CSS = (
        DIALOG_CSS.format(name="MigrateDialog")
        + """
    MigrateDialog OptionList { height: auto; margin-top: 1; }
    MigrateDialog #fit { max-height: 40vh; }
    MigrateDialog #excluded { max-height: 25vh; }
    """
    )
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dialog.cancel")]

    def __init__(self, vm: str, targets: list[Target], also: int = 0, figures: str = "") -> None:
        super().__init__()
        self.vm = vm
        self.targets = targets
        self.also = also  # marked VMs that go to the same host
        self.figures = figures  # how old the cpu% and scores' figures are, when behind

    def compose(self) -> ComposeResult:
        fit = [t for t in self.targets if t.reason is None]
        excluded = [t for t in self.targets if t.reason is not None]
        with Vertical():
            others = f" and {self.also} more marked VM(s)" if self.also else ""
            yield Static(Text(for_terminal(f"Migrate {self.vm}{others} to ...")), classes="title")
            if self.figures:  # between two whole syncs of a big fleet
                yield Static(Text(f"Hosts {self.figures}.", style="yellow"), id="figures-age")
            if fit:
                yield OptionList(*[_fit_option(t) for t in fit], id="fit")
            yield Static(
                Text(
                    f"{len(fit)} of {len(self.targets)} hosts can take it (score: higher is "
                    "better). Enter moves it live; Tab: the excluded hosts and why; Esc cancels."
                ),
                classes="keys",
            )
            if excluded:
                yield OptionList(*[_excluded_option(t) for t in excluded], id="excluded")
            yield Static("", classes="why", id="why")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option_list.id == "fit":
            self.dismiss(event.option.id)
            return
        target = next(t for t in self.targets if t.host.name == event.option.id)
        self.query_one("#why", Static).update(
            Text(for_terminal(f"{target.host.name} cannot take it: {target.reason}"))
        )

    def action_cancel(self) -> None:
        self.dismiss(None)


def _fit_option(t: Target) -> Option:
    h = t.host
    free = h.usable_memory_mib - h.memory_used_mib
    line = Text(f"{for_terminal(h.name):<14}", style="bold")
    busy = format_percent(h.cpu_util)
    line.append(f" {for_terminal(h.rack):<6} cpu {busy:>3}%  {format_mib(free):>9} free")
    if t.score is not None:
        line.append(f"  score {t.score:5.2f}", style="cyan")
    if t.watts is not None:
        line.append(f"  +{t.watts:.0f} W")
    return Option(line, id=h.name)


def _excluded_option(t: Target) -> Option:
    line = Text(f"{for_terminal(t.host.name):<14}", style="dim")
    line.append(f" excluded: {for_terminal(t.reason)}", style="dim")
    return Option(line, id=t.host.name)
