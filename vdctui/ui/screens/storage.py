"""What quietly goes wrong with storage and definitions, in the TUI:

- the Snapshot space screen (`:snapshots`): the space snapshots hold on each datastore,
  how many are old (older than a week), and the old ones themselves;
- the Duplicates screen (`:duplicates`): every VM defined on more than one host, one row
  per copy (never collapsed into one); `R` removes a shut-off copy, after asking.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from vdctui.columns import Column
from vdctui.escape import for_terminal
from vdctui.model import DuplicateDefinition, Snapshot, VmState
from vdctui.ops import Failed, Refused
from vdctui.ops import duplicates as dup
from vdctui.ops import snapshots as snaps
from vdctui.snapshot_rows import SPACE_COLUMNS, ListedSnapshot, listed
from vdctui.ui.dialogs.ask import Question
from vdctui.ui.screens.records import RecordsScreen
from vdctui.units import UNKNOWN, format_bytes, format_duration

OLD_SHOWN = 12  # old snapshots listed under the table (the CLI lists them all)


def space_share(row: snaps.DatastoreSnapshots) -> str:
    """The snapshots' space, and its share of the datastore when both are known."""
    if row.size_bytes is None:
        return UNKNOWN
    shown = format_bytes(row.size_bytes)
    if row.capacity_gib:
        shown += f" ({100 * row.size_bytes / (row.capacity_gib * 2**30):.1f}%)"
    return shown


SPACE_SCREEN_COLUMNS: list[Column] = [
    *[(h, get) for h, get in SPACE_COLUMNS if h != "space"][:3],
    ("space", space_share),
    ("old", lambda r: f"{r.old} OLD" if r.old else "0"),
    ("oldest", dict(SPACE_COLUMNS)["oldest"]),
]


def old_lines(rows: list[ListedSnapshot], shown: int = OLD_SHOWN) -> str:
    """The old snapshots, oldest first, one line each (the first `shown`)."""
    old = sorted((r for r in rows if r.old), key=lambda r: -(r.age_s or 0.0))
    if not old:
        return "No snapshot is older than 7d."
    lines = [f"{len(old)} snapshot(s) older than 7d (delete from the VM's Snapshots tab):"]
    for r in old[:shown]:
        size = UNKNOWN if r.size_bytes is None else format_bytes(r.size_bytes)
        age = UNKNOWN if r.age_s is None else format_duration(r.age_s)
        lines.append(f"  OLD {r.vm}/{r.name}  {age} old  {size}  on {r.datastore or UNKNOWN}")
    if len(old) > shown:
        lines.append(f"  … and {len(old) - shown} more (vdctui vm snapshot list)")
    return "\n".join(lines)


class SnapshotSpaceScreen(RecordsScreen):
    COLUMNS = SPACE_SCREEN_COLUMNS
    TITLE_TEXT = "Snapshot space per datastore (old: taken more than 7d ago)"
    DEFAULT_CSS = """
    SnapshotSpaceScreen #old-snapshots { height: auto; max-height: 40%; padding: 0 1; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[snaps.DatastoreSnapshots] = []
        self.old_text = ""
        self.note = "reading every VM's snapshots…"

    def extra(self) -> ComposeResult:
        yield Static("", id="old-snapshots")

    def refresh_data(self) -> None:
        self._read()

    @work(exclusive=True, group="snapshot-space")
    async def _read(self) -> None:
        found: list[Snapshot]
        try:  # read through the process that holds the fleet, when another one does
            found, problems = await snaps.fleet_snapshots(self.ops)
        except (Refused, Failed) as exc:
            found, problems = [], [str(exc)]
        now = self.ops.store_now()
        self.rows = snaps.space_by_datastore(found, snaps.capacities(self.ops), now)
        self.old_text = old_lines(listed(found, now, snaps.OLD_AFTER_S))
        self.note = f"{len(problems)} VM(s) could not be read: {problems[0]}" if problems else ""
        if self.is_mounted:
            super().refresh_data()

    def fetch(self, fields: dict[str, str]) -> list[Any]:
        return self.rows

    def after_refresh(self) -> None:
        lines = self.old_text.split("\n")  # each escaped (the names come from the hosts)
        self.query_one("#old-snapshots", Static).update(
            Text(
                "\n".join(for_terminal(line) for line in lines),
                style="yellow" if "OLD " in self.old_text else "",
            )
        )

    def status(self) -> str:
        return super().status() + (f"  {self.note}" if self.note else "")


@dataclass(frozen=True, slots=True)
class CopyRow:
    """One host's copy of a VM defined on more than one host."""

    vm: str
    host: str
    state: VmState
    hosts: int  # how many hosts define it


DUPLICATE_COLUMNS: list[Column] = [
    ("vm", lambda r: r.vm),
    ("host", lambda r: r.host),
    ("copy", lambda r: r.state),
    ("flag", lambda r: f"DUPLICATE ({r.hosts} hosts)"),
    ("remove", lambda r: "R removes it" if r.state is VmState.SHUTOFF else "kept (not shut off)"),
]


def copy_rows(found: list[DuplicateDefinition]) -> list[CopyRow]:
    return [CopyRow(d.vm, host, state, len(d.copies)) for d in found for host, state in d.copies]


class DuplicatesScreen(RecordsScreen):
    COLUMNS = DUPLICATE_COLUMNS
    FILTER_KEYS = ("vm", "host")
    TITLE_TEXT = "VMs defined on more than one host (one row per copy)"
    BINDINGS = [Binding("R", "remove_copy", "Remove copy", id="duplicate.remove")]
    MUTATING = {"remove_copy"}

    def __init__(self) -> None:
        super().__init__()
        self.copies: list[CopyRow] = []
        self.note = "asking every host…"

    def refresh_data(self) -> None:
        self._read()

    @work(exclusive=True, group="duplicates")
    async def _read(self) -> None:
        try:
            self.copies = copy_rows(await dup.duplicates(self.ops))
            self.note = "" if self.copies else "No VM is defined on two hosts."
        except (Refused, Failed) as exc:
            self.note = str(exc)
        if self.is_mounted:
            super().refresh_data()

    def fetch(self, fields: dict[str, str]) -> list[Any]:
        return [
            r
            for r in self.copies
            if fields.get("vm", r.vm) == r.vm and fields.get("host", r.host) == r.host
        ]

    def status(self) -> str:
        return super().status() + (f"  {self.note}" if self.note else "")

    def action_remove_copy(self) -> None:
        """R: undefine the selected copy (asks first; only a shut-off copy is removed,
        anything else is refused by the console, which says why and audits it)."""
        from vdctui.ui.actions import ask

        row: CopyRow | None = self.current()
        if row is None:
            return

        async def then() -> None:
            await self.app.act(  # type: ignore[attr-defined]
                dup.remove_copy(self.ops, row.vm, row.host),
                f"The copy of {row.vm} on {row.host} is removed.",
            )
            self.refresh_data()

        if row.state is not VmState.SHUTOFF:  # refused, said and audited: nothing to ask
            self.run_worker(then(), group="act")
            return
        others = ", ".join(r.host for r in self.copies if r.vm == row.vm and r.host != row.host)
        question = Question(
            f"Remove the shut-off copy of {row.vm} on {row.host}?",
            (
                f"virsh undefine on {row.host} only: its disks are kept, the copy on "
                f"{others} is left alone.",
            ),
            "Remove",
        )
        ask(self.app, question, then)  # type: ignore[arg-type]
