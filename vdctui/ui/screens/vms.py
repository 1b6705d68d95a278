"""Every VM in one table: filter, sort, mark, act. Paged from the console's store."""

from __future__ import annotations

from typing import Any

from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding
from textual.reactive import reactive
from textual.widgets import Input, Static

from vdctui.columns import VM_COLUMNS, cell, state_as_seen
from vdctui.model import Vm, VmState
from vdctui.ops import Refused
from vdctui.ops.query import VmQuery, parse_vm_query
from vdctui.ui import actions
from vdctui.ui.screens.base import FleetScreen
from vdctui.ui.widgets.bars import spark_text
from vdctui.ui.widgets.paged_table import PagedTable
from vdctui.ui.widgets.prompt import Prompt
from vdctui.ui.widgets.vm_status import vm_status

SORT_FIELDS = {  # a column's heading -> the Vm field it sorts by
    "name": "name",
    "state": "state",
    "host": "host",
    "pool": "pool",
    "vcpus": "vcpus",
    "memory": "memory_mib",
    "cpu%": "cpu_util",
    "uptime": "uptime_s",
}
SORT_COLUMNS: list[str | None] = [SORT_FIELDS.get(heading) for heading, _ in VM_COLUMNS]
TREND_HEADINGS = ["cpu trend", "mem trend"]  # this console's recent syncs (not sortable)
TREND_CELLS = 12  # samples drawn per trend cell


def sort_heading(field: str) -> str:
    """The heading of the column a field sorts (what the operator reads, not `memory_mib`)."""
    return next((heading for heading, f in SORT_FIELDS.items() if f == field), field)


class VmsScreen(FleetScreen):
    DEFAULT_CSS = """
    VmsScreen #vm-status { height: 1; padding: 0 1; background: $surface; }
    """
    BINDINGS = [
        Binding("slash", "filter", "Filter", id="vms.filter"),
        Binding("escape", "clear_filter", "Clear", id="vms.clear", show=False),
        Binding("enter", "details", "Details", id="vm.details"),
        Binding("space", "mark", "Mark", id="vm.mark"),
        Binding("u", "unmark_all", "Unmark all", id="vms.unmark-all", show=False),
        Binding("s", "lifecycle('start')", "Start", id="vm.start"),
        Binding("x", "lifecycle('stop')", "Stop", id="vm.stop"),
        Binding("d", "lifecycle('destroy')", "Destroy", id="vm.destroy", show=False),
        Binding("r", "lifecycle('reboot')", "Reboot", id="vm.reboot", show=False),
        Binding("p", "pause", "Pause/resume", id="vm.pause", show=False),
        Binding("m", "migrate", "Migrate", id="vm.migrate"),
        Binding("z", "resize", "Resize", id="vm.resize", show=False),
        Binding("c", "console", "Console", id="vm.console", show=False),
        Binding("n", "create", "Create", id="vm.create", show=False),
        Binding("o", "sort", "Sort by next column", id="vms.sort", show=False),
        Binding("O", "reverse_sort", "Reverse sort", id="vms.sort-reverse", show=False),
    ]
    MUTATING = {"lifecycle", "pause", "migrate", "resize", "create", "console"}

    query_text: reactive[str] = reactive("")
    """The filter as typed (`web state:running host:rk1-h01`)."""
    first_row: reactive[int] = reactive(0)
    """Index (in the filtered, sorted list) of the first row on the page."""
    sort_field: reactive[str] = reactive("name")
    descending: reactive[bool] = reactive(False)

    def __init__(self) -> None:
        super().__init__()
        self.marked: set[str] = set()
        self._query = VmQuery()
        self._total = 0
        self._page: list[Vm] = []
        self._marked_vms: list[Vm] = []

    def body(self) -> ComposeResult:
        yield Static(id="vm-status")
        yield Prompt(placeholder="filter: web state:running host:rk1-h01 pool:db", id="vm-filter")
        yield PagedTable([" "] + [header for header, _ in VM_COLUMNS] + TREND_HEADINGS)

    @property
    def table(self) -> PagedTable:
        return self.query_one(PagedTable)

    def on_mount(self) -> None:
        self.table.focus()

    def on_paged_table_page_resized(self) -> None:
        if self.ready:  # a resize also arrives while the screen is taken down
            self._read()

    # --- data ---------------------------------------------------------------------

    def refresh_data(self) -> None:
        """Re-read the page (after a sync): the cursor stays on its VM when a live sort
        (CPU, uptime) moves it, as long as it is still near the page."""
        before = self.current()
        self._read()
        if before is None:
            return
        page_rows = self.table.page_rows
        if self._page_index(before.name) is None and self._total > len(self._page):
            start = max(0, self.first_row - page_rows)
            window = self.ops.vms(**self._list_args(), limit=3 * page_rows, offset=start)
            at = next((i for i, vm in enumerate(window) if vm.name == before.name), None)
            if at is not None:
                cursor = min(self.table.cursor_row, start + at)
                self.first_row = start + at - cursor
                self._read()
        row = self._page_index(before.name)
        if row is not None:
            self.table.move_cursor(row=row)

    def _page_index(self, name: str) -> int | None:
        return next((i for i, vm in enumerate(self._page) if vm.name == name), None)

    def _list_args(self) -> dict[str, Any]:
        return {**self._query.filters(), "order_by": self.sort_field, "descending": self.descending}

    def _read(self) -> None:
        """Read the page at `first_row` (and the count) for the current filter and sort."""
        self._total = self.ops.count_vms(**self._query.filters())
        page_rows = self.table.page_rows
        self.first_row = max(0, min(self.first_row, self._total - page_rows))
        self._page = self.ops.vms(**self._list_args(), limit=page_rows, offset=self.first_row)
        self._marked_vms = self._still_there(self.marked)
        self._paint()

    def _still_there(self, names: set[str]) -> list[Vm]:
        """The marked VMs as last seen; a VM that is gone loses its mark."""
        found = []
        for name in sorted(names):
            try:
                found.append(self.ops.vm(name))
            except Refused:
                self.marked.discard(name)
        return found

    def _paint(self) -> None:
        seen = self.ops.vm_sightings(self._page)
        now = self.ops.store_now()

        twice = self.ops.duplicates_seen()

        def state(vm: Vm) -> str:
            """A VM whose host did not answer: its state is unknown, as last seen with age;
            a VM more than one host defines says so (`:duplicates` lists every copy)."""
            shown = state_as_seen(vm.state, seen[vm.name], now)
            copies = twice.get(vm.name)
            return f"{shown} DUPLICATE ({len(copies.copies)} hosts)" if copies else shown

        def trends(vm: Vm) -> list[str]:
            trend = self.ops.vm_trend(vm.name)
            return [spark_text(trend.cpu, TREND_CELLS), spark_text(trend.memory, TREND_CELLS)]

        rows = [
            ["●" if vm.name in self.marked else " "]
            + [state(vm) if header == "state" else _cell(get(vm)) for header, get in VM_COLUMNS]
            + trends(vm)
            for vm in self._page
        ]
        self.table.sorted_by = (1 + SORT_COLUMNS.index(self.sort_field), self.descending)
        self.table.show(rows, [vm.name in self.marked for vm in self._page])
        first = self.first_row + 1 if self._page else 0
        status = self.query_one("#vm-status", Static)
        hidden = len(self.marked) - len(self.visible_marked()) if self.marked else 0
        line = vm_status(
            (first, self.first_row + len(self._page), self._total),
            self.query_text,
            f"{sort_heading(self.sort_field)} {'▼' if self.descending else '▲'}",
            self.ops.figures_age(),
            now,
            (len(self.marked), hidden),
            status.size.width or self.size.width - 2,
        )
        status.update(line)

    def current(self) -> Vm | None:
        row = self.table.cursor_row
        return self._page[row] if 0 <= row < len(self._page) else None

    def visible_marked(self) -> list[str]:
        """The marked VMs the filter shows."""
        return [vm.name for vm in self._marked_vms if self._query.matches(vm)]

    def targets(self) -> list[str]:
        """The marked VMs the operator can see, else (nothing marked) the one under the
        cursor. Marked VMs the filter hides are never acted on."""
        if self.marked:
            return self.visible_marked()
        vm = self.current()
        return [vm.name] if vm else []

    def _say_hidden(self, names: list[str]) -> None:
        hidden = len(self.marked) - len(names) if self.marked else 0
        if hidden <= 0:  # nothing marked (the VM under the cursor), or every mark in view
            return
        if names:
            self.notify(
                f"Acting on the {len(names)} marked VM(s) you can see; {hidden} marked VMs "
                "hidden by the filter are left alone."
            )
        else:
            self.notify(
                f"The {hidden} marked VM(s) are all hidden by the filter: clear it (Esc) to "
                "act on them, or unmark them (u).",
                severity="warning",
            )

    # --- paging and sorting -----------------------------------------------------------

    def on_paged_table_edge(self, event: PagedTable.Edge) -> None:
        """Turn the page so that the row the cursor asked for is on it; a page move keeps
        the cursor where it was on the screen, a row move brings the next row in."""
        if not self._total:
            return
        page_rows = self.table.page_rows
        target = max(0, min(self.first_row + self.table.cursor_row + event.rows, self._total - 1))
        self.first_row = max(0, min(self.first_row + event.rows, self._total - page_rows))
        self._read()
        self.table.move_cursor(row=target - self.first_row)

    def on_paged_table_header_clicked(self, event: PagedTable.HeaderClicked) -> None:
        if 0 < event.column <= len(SORT_COLUMNS):  # not the mark, nor a trend
            self._sort_by(SORT_COLUMNS[event.column - 1])

    def action_sort(self) -> None:
        """Sort by the next column, ascending."""
        fields = [f for f in SORT_COLUMNS if f is not None]
        after = SORT_COLUMNS.index(self.sort_field)
        following = [f for f in SORT_COLUMNS[after + 1 :] if f is not None]
        self.descending = False
        self.sort_field = (following or fields)[0]
        self.first_row = 0
        self._read()

    def action_reverse_sort(self) -> None:
        self._sort_by(self.sort_field)

    def _sort_by(self, field: str | None) -> None:
        """Sort by `field`; the column it already sorts by is reversed."""
        if field is None:
            return
        self.descending = not self.descending if field == self.sort_field else False
        self.sort_field = field
        self.first_row = 0
        self._read()

    # --- filter -------------------------------------------------------------------------

    def action_filter(self) -> None:
        self.query_one("#vm-filter", Prompt).open(self.query_text)

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "vm-filter":
            self.apply_filter(event.value, quiet=True)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "vm-filter":
            self.apply_filter(event.value)
            self.query_one("#vm-filter", Prompt).close()
            self.table.focus()

    def apply_filter(self, text: str, *, quiet: bool = False) -> None:
        """Filter as you type; a half-typed `state:` is not an error until Enter."""
        try:
            self._query = parse_vm_query(text)
        except Refused as exc:
            if not quiet:
                self.notify(str(exc), severity="error")
            return
        self.query_text = text
        self.first_row = 0
        self._read()

    def action_clear_filter(self) -> None:
        box = self.query_one("#vm-filter", Prompt)
        if box.is_open or self.query_text:
            box.close()
            box.value = ""
            self.apply_filter("")
            self.table.focus()
        elif self.marked:
            self.action_unmark_all()
        else:
            raise SkipAction()  # nothing to clear: Esc goes back (the app's binding)

    # --- acting --------------------------------------------------------------------------

    def action_mark(self) -> None:
        vm = self.current()
        if vm is None:
            return
        self.marked.symmetric_difference_update({vm.name})
        self._marked_vms = self._still_there(self.marked)
        self._paint()
        self.table.action_cursor_down()

    def action_unmark_all(self) -> None:
        self.marked.clear()
        self._marked_vms = []
        self._paint()

    def action_details(self) -> None:
        from vdctui.ui.screens.vm_detail import VmDetailScreen

        vm = self.current()
        if vm is not None:
            self.app.push_screen(VmDetailScreen(vm.name))

    def action_lifecycle(self, verb: str) -> None:
        names = self.targets()
        self._say_hidden(names)
        if names:
            self.run_worker(actions.lifecycle(self.vdc, verb, names), group="act")

    def action_pause(self) -> None:
        vm = self.current()
        if vm is not None:
            verb = "resume" if vm.state is VmState.PAUSED else "suspend"
            self.action_lifecycle(verb)

    def action_migrate(self) -> None:
        """Pick a host for the VM (candidates ranked for the first marked one); every
        marked VM then moves there, each checked on its own."""
        names = self.targets()
        self._say_hidden(names)
        if names:
            actions.choose_and_migrate(self.vdc, names)

    def action_resize(self) -> None:
        vm = self.current()
        if vm is not None:
            actions.open_resize(self.vdc, vm)

    def action_create(self) -> None:
        actions.open_create(self.vdc)

    def action_console(self) -> None:
        """c: the VM's serial console, the TUI suspended until it ends (Ctrl-])."""
        from vdctui.ui import serial_console

        vm = self.current()
        if vm is not None:
            self.run_worker(serial_console.open_console(self.vdc, vm.name), group="act")


_cell = cell
