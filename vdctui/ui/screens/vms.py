"""Every VM in one table: filter, sort, mark, act. Paged from the console's store."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.reactive import reactive
from textual.widgets import Input, Static

from vdctui.columns import VM_COLUMNS
from vdctui.model import Vm, VmState
from vdctui.ops import Refused
from vdctui.ops.query import VmQuery, parse_vm_query
from vdctui.ui.screens.base import FleetScreen
from vdctui.ui.widgets.paged_table import PagedTable
from vdctui.ui.widgets.prompt import Prompt

if TYPE_CHECKING:
    from vdctui.ui.app import VdcApp

SORT_FIELDS = {
    "name": "name",
    "state": "state",
    "host": "host",
    "pool": "pool",
    "vcpus": "vcpus",
    "memory": "memory_mib",
    "cpu%": "cpu_util",
    "uptime": "uptime_s",
}
DISRUPTIVE = {"stop", "destroy", "reboot"}
LIFECYCLE = {
    "start": "start_vm",
    "stop": "stop_vm",
    "destroy": "destroy_vm",
    "reboot": "reboot_vm",
    "suspend": "suspend_vm",
    "resume": "resume_vm",
}


async def run_lifecycle(app: VdcApp, verb: str, names: list[str]) -> None:
    """Apply one lifecycle verb to VMs, asking first when it interrupts them."""
    if verb in DISRUPTIVE:
        from vdctui.ui.dialogs import ConfirmDialog

        what = names[0] if len(names) == 1 else f"{len(names)} VMs"
        question = f"{verb.capitalize()} {what}?"
        if verb == "destroy":
            question += " They lose power at once, like pulling the plug."
        app.push_screen(
            ConfirmDialog(question, verb.capitalize()), partial(_confirmed, app, verb, names)
        )
        return
    await _apply(app, verb, names)


async def _confirmed(app: VdcApp, verb: str, names: list[str], yes: bool | None) -> None:
    if yes:
        await _apply(app, verb, names)


async def _apply(app: VdcApp, verb: str, names: list[str]) -> None:
    method = getattr(app.ops, LIFECYCLE[verb])
    done = 0
    for name in names:
        if await app.act(method(name)) is not None:
            done += 1
    if done:
        app.notify(f"{verb}: {done} of {len(names)} VM(s).")


async def migrate_all(app: VdcApp, names: list[str], target: str | None) -> None:
    if not target:
        return
    started = 0
    for name in names:
        if await app.act(app.ops.migrate_vm(name, target)) is not None:
            started += 1
    if started:
        app.notify(f"Migrating {started} of {len(names)} VM(s) to {target}; see Tasks (4).")


class VmsScreen(FleetScreen):
    DEFAULT_CSS = """
    VmsScreen #vm-status { height: 1; padding: 0 1; background: $surface; }
    """
    BINDINGS = [
        Binding("slash", "filter", "Filter", id="vms.filter"),
        Binding("escape", "clear_filter", "Clear", id="vms.clear", show=False),
        Binding("space", "mark", "Mark", id="vm.mark"),
        Binding("s", "lifecycle('start')", "Start", id="vm.start"),
        Binding("x", "lifecycle('stop')", "Stop", id="vm.stop"),
        Binding("d", "lifecycle('destroy')", "Destroy", id="vm.destroy", show=False),
        Binding("r", "lifecycle('reboot')", "Reboot", id="vm.reboot", show=False),
        Binding("p", "pause", "Pause/resume", id="vm.pause", show=False),
        Binding("m", "migrate", "Migrate", id="vm.migrate"),
        Binding("z", "resize", "Resize", id="vm.resize"),
        Binding("c", "create", "Create", id="vm.create"),
        Binding("o", "sort", "Sort", id="vms.sort", show=False),
    ]
    MUTATING = {"lifecycle", "pause", "migrate", "resize", "create"}

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

    def body(self) -> ComposeResult:
        yield Static(id="vm-status")
        yield Prompt(placeholder="filter: web state:running host:rk1-h01 pool:db", id="vm-filter")
        yield PagedTable([" "] + [header for header, _ in VM_COLUMNS])

    @property
    def table(self) -> PagedTable:
        return self.query_one(PagedTable)

    def on_mount(self) -> None:
        self.table.focus()

    def on_paged_table_page_resized(self) -> None:
        self.refresh_data()

    # --- data ---------------------------------------------------------------------

    def refresh_data(self) -> None:
        """Read the page under the cursor (and the count) for the current filter."""
        filters = self._query.filters()
        self._total = self.ops.count_vms(**filters)
        page_rows = self.table.page_rows
        self.first_row = max(0, min(self.first_row, self._total - page_rows))
        self._page = self.ops.vms(
            **filters,
            order_by=self.sort_field,
            descending=self.descending,
            limit=page_rows,
            offset=self.first_row,
        )
        self._paint()

    def _paint(self) -> None:
        rows = [
            ["●" if vm.name in self.marked else " "] + [_cell(get(vm)) for _, get in VM_COLUMNS]
            for vm in self._page
        ]
        self.table.show(rows, [vm.name in self.marked for vm in self._page])
        first = self.first_row + 1 if self._page else 0
        status = f"VMs {first:,}-{self.first_row + len(self._page):,} of {self._total:,}"
        if self.query_text:
            status += f"  filter: {self.query_text}"
        status += f"  sorted by {self.sort_field}{' desc' if self.descending else ''}"
        if self.marked:
            status += f"  {len(self.marked)} marked"
        self.query_one("#vm-status", Static).update(status)

    def current(self) -> Vm | None:
        row = self.table.cursor_row
        return self._page[row] if 0 <= row < len(self._page) else None

    def targets(self) -> list[str]:
        """The marked VMs, else the one under the cursor."""
        if self.marked:
            return sorted(self.marked)
        vm = self.current()
        return [vm.name] if vm else []

    # --- paging and sorting -----------------------------------------------------------

    def on_paged_table_edge(self, event: PagedTable.Edge) -> None:
        before = self.first_row
        last_page = self._total - self.table.page_rows
        self.first_row = max(0, min(self.first_row + event.rows, last_page))
        if self.first_row != before:
            self.refresh_data()
            moved = self.first_row - before
            rest = event.rows - moved
            if rest:  # at the very top or bottom of the list: the cursor goes to the edge
                self.table.move_cursor(row=0 if rest < 0 else len(self._page) - 1)
        elif event.rows > 0:
            self.table.move_cursor(row=len(self._page) - 1)
        else:
            self.table.move_cursor(row=0)

    def on_paged_table_header_clicked(self, event: PagedTable.HeaderClicked) -> None:
        if event.column > 0:  # the first column is the mark
            field = SORT_FIELDS.get(VM_COLUMNS[event.column - 1][0])
            if field:
                self._sort_by(field)

    def action_sort(self) -> None:
        fields = list(SORT_FIELDS.values())
        self._sort_by(fields[(fields.index(self.sort_field) + 1) % len(fields)])

    def _sort_by(self, field: str) -> None:
        self.descending = not self.descending if field == self.sort_field else False
        self.sort_field = field
        self.first_row = 0
        self.refresh_data()

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
        self.refresh_data()

    def action_clear_filter(self) -> None:
        box = self.query_one("#vm-filter", Prompt)
        if box.is_open or self.query_text:
            box.close()
            box.value = ""
            self.apply_filter("")
            self.table.focus()
        elif self.marked:
            self.marked.clear()
            self._paint()

    # --- acting --------------------------------------------------------------------------

    def action_mark(self) -> None:
        vm = self.current()
        if vm is None:
            return
        self.marked.symmetric_difference_update({vm.name})
        self._paint()
        self.table.action_cursor_down()

    def action_lifecycle(self, verb: str) -> None:
        names = self.targets()
        if names:
            self.run_worker(run_lifecycle(self.vdc, verb, names), group="act")

    def action_pause(self) -> None:
        vm = self.current()
        if vm is not None:
            verb = "resume" if vm.state is VmState.PAUSED else "suspend"
            self.action_lifecycle(verb)

    def action_migrate(self) -> None:
        """Pick a host for the VM (candidates ranked for the first marked one); every
        marked VM then moves there, each checked on its own."""
        from vdctui.ui.dialogs import MigrateDialog

        names = self.targets()
        if names:
            self.app.push_screen(
                MigrateDialog(self.ops, names[0], also=len(names) - 1),
                partial(migrate_all, self.vdc, names),
            )

    def action_resize(self) -> None:
        from vdctui.ui.dialogs import ResizeDialog

        vm = self.current()
        if vm is not None:
            self.app.push_screen(ResizeDialog(self.ops, vm))

    def action_create(self) -> None:
        from vdctui.ui.dialogs import CreateDialog

        self.app.push_screen(CreateDialog(self.ops, ""))


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, VmState):
        return value.value
    return str(value)
