"""The Snapshots tab of a VM's detail: its snapshot tree (current marked, old flagged),
and the keys to take, revert to and delete snapshots (revert and delete ask first)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from vdctui.columns import when
from vdctui.escape import for_terminal as safe
from vdctui.model import Snapshot, VmState
from vdctui.ops import Console, Failed, Refused
from vdctui.ops import snapshots as snaps
from vdctui.ui.dialogs import ConfirmDialog, Question
from vdctui.ui.dialogs.snapshot import SnapshotDialog, SnapshotRequest
from vdctui.units import UNKNOWN, format_bytes, format_duration

if TYPE_CHECKING:
    from vdctui.ui.app import VdcApp

Verb = Callable[[Console, str, str], Awaitable[object]]
HEADINGS = ("snapshot", "taken", "age", "state", "size", "description")


def snapshot_row(row: snaps.TreeRow, now: float) -> list[Text]:
    """A snapshot's cells, escaped: indented under its parent, `*` the current one, OLD."""
    s = row.snapshot
    age = UNKNOWN if s.created is None else format_duration(max(now - s.created, 0.0))
    old = snaps.is_old(s, now)
    cells = [
        "  " * row.depth + safe(s.name) + (" *" if s.current else ""),
        when(s.created),
        age + (" OLD" if old else ""),
        safe(s.vm_state) + (" +memory" if s.memory else ""),
        UNKNOWN if s.size_bytes is None else format_bytes(s.size_bytes),
        safe(s.description),
    ]
    return [Text(c, end="", style="yellow" if old and i == 2 else "") for i, c in enumerate(cells)]


class SnapshotsPane(Vertical):
    """Loads the VM's snapshots from its host (in a worker) when shown and after changes."""

    DEFAULT_CSS = """
    SnapshotsPane { height: auto; padding: 0 1; }
    SnapshotsPane #vm-snapshots { height: auto; max-height: 20; }
    SnapshotsPane #snapshot-note { margin-top: 1; }
    """
    BINDINGS = [
        Binding("n", "take", "New snapshot", id="snapshot.create"),
        Binding("v", "revert", "Revert to it", id="snapshot.revert"),
        Binding("delete", "delete", "Delete it", id="snapshot.delete"),
    ]
    MUTATING = {"take", "revert", "delete"}

    def __init__(self, vm: str) -> None:
        super().__init__(id="snapshots-pane")
        self.vm = vm
        self.shown: list[Snapshot] = []

    @property
    def vdc(self) -> VdcApp:
        from vdctui.ui.app import VdcApp

        assert isinstance(self.app, VdcApp)
        return self.app

    def compose(self) -> ComposeResult:
        table: DataTable[Text] = DataTable(id="vm-snapshots", cursor_type="row")
        for heading in HEADINGS:
            table.add_column(heading.upper())
        yield table
        yield Static("Reading snapshots ...", id="snapshot-note")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return not (self.vdc.read_only and action in self.MUTATING)

    @work(group="snapshots", exclusive=True)
    async def load(self) -> None:
        """Read the VM's snapshots from its host (a newer call replaces a running one)."""
        note = self.query_one("#snapshot-note", Static)
        try:
            found = await snaps.list_snapshots(self.vdc.ops, self.vm)
        except (Refused, Failed) as exc:
            note.update(Text(str(exc), style="yellow"))
            return
        self.shown = found
        table = self.query_one("#vm-snapshots", DataTable)
        cursor = table.cursor_row
        table.clear()
        now = self.vdc.ops.store_now()
        for row in snaps.tree(found):
            table.add_row(*snapshot_row(row, now), key=row.snapshot.name)
        if found:
            table.move_cursor(row=min(cursor, len(found) - 1))
        keys = "n: take one" if not found else "n: take one · v: revert to it · Del: delete it"
        what = f"{len(found)} snapshot{'s' if len(found) != 1 else ''}" if found else "None yet"
        note.update(
            Text(f"{what}; * is the current one, OLD older than a week. {keys}", style="dim")
        )

    def _selected(self) -> str | None:
        table = self.query_one("#vm-snapshots", DataTable)
        if not self.shown or table.row_count == 0:
            self.vdc.notify(f"{self.vm} has no snapshot to choose.", severity="warning")
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return str(key) if key is not None else None

    def action_take(self) -> None:
        try:
            vm = self.vdc.ops.vm(self.vm)
        except Refused as exc:
            self.vdc.notify(str(exc), severity="error")
            return
        running = vm.state in (VmState.RUNNING, VmState.PAUSED)

        async def taken(request: SnapshotRequest | None) -> None:
            if request is None:
                return
            work = snaps.create_snapshot(
                self.vdc.ops,
                self.vm,
                request.name,
                description=request.description,
                disk_only=request.disk_only,
            )
            await self.vdc.act(work, f"{self.vm}: snapshot {request.name} taken.")
            self.load()

        self.vdc.push_screen(SnapshotDialog(self.vm, running), taken)

    def action_revert(self) -> None:
        name = self._selected()
        if name is not None:
            question = Question(
                f"Revert {self.vm} to snapshot {name}?",
                ("What the VM holds now (disk, and memory if it runs) is lost.",),
                "Revert",
            )
            self._ask(question, snaps.revert_snapshot, name, f"reverted to {name}")

    def action_delete(self) -> None:
        name = self._selected()
        if name is not None:
            question = Question(
                f"Delete snapshot {name} of {self.vm}?",
                ("Its children, if any, move up to its parent.",),
                "Delete",
            )
            self._ask(question, snaps.delete_snapshot, name, f"snapshot {name} deleted")

    def _ask(self, question: Question, verb: Verb, name: str, done: str) -> None:
        async def answered(yes: bool | None) -> None:
            if not yes:
                self.vdc.notify(f"{question.verb}: not done; nothing changed.", timeout=4)
                return
            await self.vdc.act(verb(self.vdc.ops, self.vm, name), f"{self.vm}: {done}.")
            self.load()

        self.vdc.push_screen(ConfirmDialog(question), answered)
