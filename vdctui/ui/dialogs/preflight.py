"""Before a migration from the TUI: the pre-flight check of the host chosen (each check's
verdict and why) and the migration options, each with its one-line explanation.
`r` checks again with the options as set; Enter migrates when nothing fails; `f` forces a
migration a check failed. Returns what was asked for, or None (Esc); changes nothing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Select, Static

from vdctui import checks
from vdctui.escape import for_terminal
from vdctui.model import MigrationOptions
from vdctui.ops import Failed, Refused
from vdctui.ops.preflight import OPTION_HELP, Preflight, Verdict
from vdctui.ui.dialogs.ask import DIALOG_CSS

Recheck = Callable[[MigrationOptions], Awaitable[Preflight]]
STYLE = {Verdict.PASS: "green", Verdict.WARN: "yellow", Verdict.FAIL: "bold red"}
FLAGS = ("compressed", "auto_converge", "postcopy", "tunnelled")


@dataclass(frozen=True)
class MigrationRequest:
    options: MigrationOptions
    force: bool


def report_text(report: Preflight) -> Text:
    text = Text()
    for c in report.checks:
        text.append(f"{c.verdict.value.upper():<5}", style=STYLE[c.verdict])
        text.append(f" {c.name:<10}{for_terminal(c.reason)}\n")
    return text


class PreflightDialog(ModalScreen[MigrationRequest | None]):
    DEFAULT_CSS = (
        DIALOG_CSS.format(name="PreflightDialog")
        + """
    PreflightDialog VerticalScroll { max-height: 60vh; }
    PreflightDialog .help { color: $text-muted; margin-left: 4; }
    PreflightDialog Input { width: 30; }
    """
    )
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="dialog.cancel"),
        Binding("ctrl+r", "recheck", "Check again", id="preflight.recheck"),
        Binding("ctrl+f", "force", "Force", id="preflight.force"),
    ]

    def __init__(self, report: Preflight, options: MigrationOptions, recheck: Recheck) -> None:
        super().__init__()
        self.report = report
        self.options = options
        self.recheck = recheck

    def compose(self) -> ComposeResult:
        r = self.report
        with Vertical():
            yield Static(
                Text(for_terminal(f"Migrate {r.vm} {r.source} -> {r.target}: pre-flight check")),
                classes="title",
            )
            yield Static(report_text(r), id="preflight-report")
            with VerticalScroll():
                copy = [("shared storage (no copy)", ""), ("full copy", "full")]
                copy.append(("incremental copy", "incremental"))
                yield Select(copy, value=self.options.copy_storage, allow_blank=False, id="copy")
                yield Static(OPTION_HELP["copy_storage"], classes="help")
                for flag in FLAGS:
                    label = flag.replace("_", "-")
                    yield Checkbox(label, getattr(self.options, flag), id=f"opt-{flag}")
                    yield Static(OPTION_HELP[flag], classes="help")
                for field, hint in (("bandwidth_mib_s", "MiB/s"), ("max_downtime_ms", "ms")):
                    value = getattr(self.options, field)
                    yield Input("" if value is None else str(value), placeholder=hint, id=field)
                    yield Static(OPTION_HELP[field], classes="help")
            yield Static("", classes="why", id="why")
            yield Static(
                "Enter migrates (when no check fails); ctrl+r checks again with these options; "
                "ctrl+f forces past a failed check; Esc cancels.",
                classes="keys",
            )
            with Horizontal():
                yield Button("Migrate (Enter)", variant="primary", id="ok")
                yield Button("Check again (ctrl+r)", id="recheck")
                yield Button("Force (ctrl+f)", variant="error", id="force")
                yield Button("Cancel (Esc)", id="cancel")

    def on_mount(self) -> None:
        self._verdict_changed()
        self.query_one("#cancel" if self.report.failed else "#ok", Button).focus()

    def _verdict_changed(self) -> None:
        failed = bool(self.report.failed)
        self.query_one("#ok", Button).disabled = failed
        self.query_one("#force", Button).display = failed
        self.query_one("#preflight-report", Static).update(report_text(self.report))
        why = self.query_one("#why", Static)
        why.update(Text(for_terminal(self.report.refusal())) if failed else "")

    def chosen(self) -> MigrationOptions:
        """The options as set; a number that is not one is refused in one sentence."""
        numbers: dict[str, int | None] = {}
        for field, high in (("bandwidth_mib_s", 1_000_000), ("max_downtime_ms", 600_000)):
            typed = self.query_one(f"#{field}", Input).value.strip()
            try:
                numbers[field] = (
                    checks.whole_number(typed, field.replace("_", " "), low=1, high=high)
                    if typed
                    else None
                )
            except checks.BadInput as exc:
                raise Refused(str(exc)) from None
        flags = {f: self.query_one(f"#opt-{f}", Checkbox).value for f in FLAGS}
        copy = self.query_one("#copy", Select).value
        return MigrationOptions(copy_storage=str(copy), **flags, **numbers)  # type: ignore[arg-type]

    @on(Button.Pressed, "#recheck")
    @work(exclusive=True, group="preflight")
    async def action_recheck(self) -> None:
        try:
            options = self.chosen()
            self.report = await self.recheck(options)
        except (Refused, Failed) as exc:
            self.query_one("#why", Static).update(Text(for_terminal(str(exc))))
            return
        self.options = options
        self._verdict_changed()

    @on(Button.Pressed, "#ok")
    def ok(self) -> None:
        self._answer(force=False)

    def on_input_submitted(self) -> None:
        self._answer(force=False)

    @on(Button.Pressed, "#force")
    def action_force(self) -> None:
        if self.report.failed:
            self._answer(force=True)

    def _answer(self, *, force: bool) -> None:
        if self.report.failed and not force:
            return
        try:
            options = self.chosen()
        except Refused as exc:
            self.query_one("#why", Static).update(Text(for_terminal(str(exc))))
            return
        self.dismiss(MigrationRequest(options, force))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
