"""Pools, tasks, migrations and audit: tables of what the console remembers."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from rich.text import Text
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Input, ProgressBar, Static

from vdctui.columns import (
    AUDIT_COLUMNS,
    MIGRATION_COLUMNS,
    POOL_COLUMNS,
    TASK_COLUMNS,
    Column,
    cell,
)
from vdctui.escape import for_terminal
from vdctui.model import MigrationOutcome, Task, TaskState
from vdctui.ops import Refused
from vdctui.ui import actions
from vdctui.ui.screens.base import FleetScreen
from vdctui.ui.widgets.prompt import Prompt
from vdctui.units import format_bytes, parse_duration_s

ROWS_SHOWN = 500  # the newest; older ones are a filter away
PROGRESS_EVERY_S = 0.5  # the Tasks screen rereads running tasks this often


def parse_fields(text: str, keys: tuple[str, ...]) -> dict[str, str]:
    """`vm:web-001 outcome:failed` -> {"vm": "web-001", "outcome": "failed"}; a bare word
    fills the first key."""
    fields: dict[str, str] = {}
    for token in text.split():
        key, colon, value = token.partition(":")
        if not colon:
            key, value = keys[0], token
        if key not in keys:
            raise Refused(f"{key!r} is not a filter here; use {', '.join(k + ':' for k in keys)}.")
        if value:
            fields[key] = value
    return fields


class RecordsScreen(FleetScreen):
    """A title line, an optional filter, and one table."""

    DEFAULT_CSS = """
    RecordsScreen #records-status { height: auto; padding: 0 1; background: $surface; }
    RecordsScreen DataTable { height: 1fr; }
    """
    BINDINGS = [
        Binding("slash", "filter", "Filter", id="records.filter"),
        Binding("escape", "clear_filter", "Clear", id="records.clear", show=False),
    ]
    COLUMNS: list[Column] = []
    FILTER_KEYS: tuple[str, ...] = ()
    TITLE_TEXT = ""

    def __init__(self) -> None:
        super().__init__()
        self.filter_text = ""
        self.items: list[Any] = []

    def body(self) -> ComposeResult:
        yield Static(self.TITLE_TEXT, id="records-status")
        yield Prompt(
            placeholder=" ".join(f"{k}:..." for k in self.FILTER_KEYS), id="records-filter"
        )
        yield from self.extra()
        table: DataTable[Text] = DataTable(cursor_type="row", zebra_stripes=True)
        for header, _ in self.COLUMNS:
            table.add_column(header.upper(), key=header)
        yield table

    def extra(self) -> ComposeResult:
        yield from ()

    @property
    def table(self) -> DataTable[Text]:
        return self.query_one(DataTable)

    def on_mount(self) -> None:
        self.table.focus()

    def fetch(self, fields: dict[str, str]) -> list[Any]:
        return []

    def status(self) -> str:
        shown = f"{len(self.items):,} shown"
        return f"{self.TITLE_TEXT}  {shown}" + (
            f"  filter: {self.filter_text}" if self.filter_text else ""
        )

    def _rows_for(self, text: str) -> list[Any]:
        """The rows a filter shows; a filter that does not parse is refused."""
        fields = parse_fields(text, self.FILTER_KEYS) if self.FILTER_KEYS else {}
        return self.fetch(fields)

    def refresh_data(self) -> None:
        try:
            self.items = self._rows_for(self.filter_text)
        except Refused as exc:
            self.notify(str(exc), severity="error")
            return
        self._show()

    def _show(self) -> None:
        table = self.table
        row = table.cursor_row
        with self.app.batch_update():
            table.clear()
            for item in self.items:
                table.add_row(*[_cell(get(item)) for _, get in self.COLUMNS])
            if self.items:
                table.move_cursor(row=min(max(row, 0), len(self.items) - 1), animate=False)
        self.query_one("#records-status", Static).update(Text(for_terminal(self.status())))
        self.after_refresh()

    def after_refresh(self) -> None:
        """Subclasses show more about the selected row."""

    def current(self) -> Any | None:
        row = self.table.cursor_row
        return self.items[row] if 0 <= row < len(self.items) else None

    def on_data_table_row_highlighted(self) -> None:
        self.after_refresh()

    def action_filter(self) -> None:
        if not self.FILTER_KEYS:
            return
        self.query_one("#records-filter", Prompt).open(self.filter_text)

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "records-filter":
            self.apply_filter(event.value, quiet=True)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "records-filter":
            self.query_one("#records-filter", Prompt).close()
            self.apply_filter(event.value)
            self.table.focus()

    def apply_filter(self, text: str, *, quiet: bool = False) -> None:
        """Filter as you type; a half-typed `since:` says what is wrong only on Enter."""
        try:
            self.items = self._rows_for(text.strip())
        except Refused as exc:
            if not quiet:
                self.notify(str(exc), severity="error")
            return
        self.filter_text = text.strip()
        self._show()

    def action_clear_filter(self) -> None:
        """Esc: closes the filter line and clears the filter; with none, Esc goes back."""
        box = self.query_one("#records-filter", Prompt)
        if not box.is_open and not self.filter_text:
            raise SkipAction()
        box.close()
        box.value = ""
        self.apply_filter("")
        self.table.focus()


class PoolsScreen(RecordsScreen):
    COLUMNS = POOL_COLUMNS
    TITLE_TEXT = "Resource pools: reservations, limits, what they hold"

    def fetch(self, fields: dict[str, str]) -> list[Any]:
        return self.ops.pools()


class TasksScreen(RecordsScreen):
    """Running and recent tasks; a running migration shows its phase, rate and rounds."""

    COLUMNS = TASK_COLUMNS
    FILTER_KEYS = ("kind", "state")
    TITLE_TEXT = "Tasks"
    BINDINGS = [Binding("x", "cancel_task", "Cancel", id="task.cancel")]
    MUTATING = {"cancel_task"}
    DEFAULT_CSS = """
    TasksScreen #task-detail { height: auto; padding: 0 1; }
    TasksScreen ProgressBar { padding: 0 1; }
    """

    def extra(self) -> ComposeResult:
        yield ProgressBar(total=100, show_eta=False, id="task-progress")
        yield Static("", id="task-detail")

    def on_mount(self) -> None:
        super().on_mount()
        self.set_interval(PROGRESS_EVERY_S, self._follow_progress)

    def _follow_progress(self) -> None:
        """A running task's progress as the store gets it (each sample a migration reads),
        not only at each sync: the screen follows a copy at least once a second."""
        if self.is_current and self.ops.tasks(active=True):
            self.refresh_data()

    def fetch(self, fields: dict[str, str]) -> list[Any]:
        tasks = self.ops.tasks(limit=ROWS_SHOWN)
        return [t for t in tasks if all(str(getattr(t, k)) == v for k, v in fields.items())]

    def after_refresh(self) -> None:
        task: Task | None = self.current()
        bar = self.query_one("#task-progress", ProgressBar)
        detail = self.query_one("#task-detail", Static)
        if task is None:
            detail.update("No tasks yet.")
            bar.display = False
            return
        bar.display = True
        bar.update(progress=task.progress)
        detail.update(task_detail(task))

    def action_cancel_task(self) -> None:
        task: Task | None = self.current()
        if task is None:
            return
        if task.state is not TaskState.RUNNING:
            self.notify(f"Task {task.id} is {task.state}; nothing to cancel.", severity="warning")
            return
        self.run_worker(actions.cancel_task(self.vdc, task.id), group="act")


def task_detail(task: Task) -> Text:
    text = Text()
    text.append(f"task {task.id} {task.kind} {task.target}: ", style="bold")
    text.append(f"{task.state} {task.progress:.0f}%")
    if task.error:
        text.append(f"  {task.error}", style="red")
    d = task.detail
    if task.kind == "migrate" and "data_total" in d:
        rate = float(d.get("memory_bps", 0))
        text.append(
            f"\n{d.get('source', '')} -> {d.get('to', '')}  phase {d.get('phase')}  "
            f"round {d.get('memory_iteration')}  {format_bytes(rate)}/s  "
            f"left {format_bytes(float(d.get('data_remaining', 0)))} of "
            f"{format_bytes(float(d.get('data_total', 0)))}  dirty "
            f"{float(d.get('memory_dirty_rate', 0)):.0f} pages/s  "
            f"downtime ~{d.get('downtime')} ms"
        )
        if d.get("target_state"):  # the copy on the target, as its libvirt says it
            text.append("\n" + for_terminal(f"target {d.get('to', '')}: {d['target_state']}"))
    return text


class MigrationsScreen(RecordsScreen):
    COLUMNS = MIGRATION_COLUMNS
    FILTER_KEYS = ("vm", "host", "outcome")
    TITLE_TEXT = "Migration history"

    def fetch(self, fields: dict[str, str]) -> list[Any]:
        query: dict[str, Any] = dict(fields)
        if "outcome" in fields:
            try:
                query["outcome"] = MigrationOutcome(fields["outcome"])
            except ValueError:
                choices = ", ".join(o.value for o in MigrationOutcome)
                raise Refused(f"{fields['outcome']!r} is not an outcome ({choices}).") from None
        return self.ops.migrations(**query, limit=ROWS_SHOWN)


class AuditScreen(RecordsScreen):
    """The audit log with the chain's state; `e` exports what the filter shows."""

    COLUMNS = AUDIT_COLUMNS
    FILTER_KEYS = ("target", "actor", "action", "result", "since")
    TITLE_TEXT = "Audit log"
    BINDINGS = [
        Binding("v", "verify", "Verify chain", id="audit.verify"),
        Binding("e", "export('csv')", "Export CSV", id="audit.export-csv"),
        Binding("j", "export('json')", "Export JSON", id="audit.export-json"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.chain = "not verified yet (v)"

    def fetch(self, fields: dict[str, str]) -> list[Any]:
        return self.ops.audit(**self._query(fields), limit=ROWS_SHOWN)

    def _query(self, fields: dict[str, str]) -> dict[str, Any]:
        """`since:2h` means the last two hours (of the console's clock)."""
        query: dict[str, Any] = dict(fields)
        if "since" in fields:
            try:
                query["since"] = self.ops.store_now() - parse_duration_s(fields["since"])
            except ValueError as exc:
                raise Refused(str(exc)) from None
        return query

    def status(self) -> str:
        return f"{super().status()}  chain: {self.chain}"

    def action_verify(self) -> None:
        check = self.ops.check_audit()
        problems = check.problems
        if problems:
            self.chain = f"BROKEN ({len(problems)} problems; first: {problems[0].problem})"
            self.notify(self.chain, severity="error", timeout=15)
        else:
            self.chain = "intact"
            # what was not checked (the seal needs the auditor's key, which is not here)
            said = check.notes[0] if check.notes else ""
            self.notify(f"The audit chain is intact ({check.records:,} records); {said}.")
        self.refresh_data()

    def action_export(self, fmt: str) -> None:
        try:
            fields = self._query(parse_fields(self.filter_text, self.FILTER_KEYS))
        except Refused as exc:
            self.notify(str(exc), severity="error")
            return
        fields.pop("result", None)
        path = Path.cwd() / f"vdctui-audit-{time.strftime('%Y%m%d-%H%M%S')}.{fmt}"
        try:
            with path.open("w", newline="") as out:
                self.ops.export_audit(fmt, out, **fields)  # type: ignore[arg-type]
        except OSError as exc:
            self.notify(f"Cannot write {path}: {exc.strerror}.", severity="error")
            return
        self.notify(f"Exported the audit log to {path}.")


def _cell(value: object) -> Text:
    """A cell as plain text (a str would be read as markup), escaped."""
    return Text(cell(value))
