"""Home: the physical tree (sites, rooms, racks, hosts) and, beside it, what the
selection is and does: capacity, power against the rack budget, its VMs, its events."""

from __future__ import annotations

from collections import defaultdict
from contextlib import suppress
from typing import TYPE_CHECKING

from rich.text import Text
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import DataTable, Input, Static, Tree
from textual.widgets.data_table import RowDoesNotExist
from textual.widgets.tree import TreeNode

from vdctui.columns import cell, stale_note, state_as_seen, when
from vdctui.escape import for_terminal
from vdctui.model import Host, Rack, RackTotals, Sighting, Topology, VmState
from vdctui.ops.contention import cpu_contention
from vdctui.ops.placement import Allocation
from vdctui.ops.why_off import off_sentence, off_word
from vdctui.ui.screens.base import FleetScreen
from vdctui.ui.screens.host_detail import (
    RACK_HOST_HEADINGS,
    cpu_history,
    group_detail,
    host_badges,
    host_detail,
    rack_host_row,
    rack_label,
    rack_totals,
)
from vdctui.ui.widgets.fleet_tree import FleetTree, Node
from vdctui.ui.widgets.prompt import Prompt
from vdctui.units import UNKNOWN, format_mib, format_percent

if TYPE_CHECKING:
    from vdctui.store.power_offs import PowerOff

HOST_VMS_SHOWN = 200
VM_HEADINGS = ("VM", "STATE", "POOL", "VCPUS", "MEMORY", "CPU%")


class InventoryScreen(FleetScreen):
    DEFAULT_CSS = """
    InventoryScreen #inventory-tree { width: 44; max-width: 40%; border-right: solid $primary; }
    InventoryScreen #detail-pane { padding: 0 1; scrollbar-gutter: stable; }
    InventoryScreen #detail { height: auto; }
    InventoryScreen #figures-age { height: auto; margin: 0 0 1 0; }
    InventoryScreen #spark { height: auto; margin: 1 0 0 0; }
    InventoryScreen #host-vms { height: auto; max-height: 16; margin-top: 1; }
    InventoryScreen #events { height: auto; margin-top: 1; }
    """
    BINDINGS = [
        Binding("slash", "filter", "Filter", id="inventory.filter"),
        Binding("escape", "clear_filter", "Clear", id="inventory.clear", show=False),
        Binding("m", "migrate", "Migrate", id="vm.migrate"),
    ]
    MUTATING = {"migrate"}

    def __init__(self) -> None:
        super().__init__()
        self.selected: Node | None = None
        self.host_filter = ""
        self._hosts: dict[str, Host] = {}
        self._held: dict[str, Allocation] = {}
        self._maintenance: set[str] = set()
        self._seen: dict[str, Sighting] = {}  # when each host last answered
        self._offs: dict[str, PowerOff] = {}  # who powered off the hosts the console did
        # every host, what their VMs hold and when they answered: read after the first
        # frame (which needs only each rack's totals), or first when something needs them
        self._hosts_read = False
        self._totals: dict[str, RackTotals] = {}  # each rack's hosts added up
        self._now = 0.0
        self._topology = Topology()
        self._rack_of: dict[str, Rack] = {}  # the topology's racks by name
        self._by_rack: dict[str, list[Host]] = {}  # every host (no filter) by rack, by name
        self._built = False
        self._detail_width = 0  # the width the detail was last drawn for
        self._side_for: Node | None = None  # what the side table was last filled for

    def body(self) -> ComposeResult:
        yield Prompt(placeholder="filter hosts: name or rack substring", id="tree-filter")
        with Horizontal():
            yield FleetTree("fleet", id="inventory-tree")
            with VerticalScroll(id="detail-pane"):
                yield Static("", id="figures-age")  # between two whole syncs: their age
                yield Static("Select a site, room, rack or host.", id="detail")
                yield Static("", id="spark")
                yield DataTable(id="host-vms", cursor_type="row")
                yield Static("", id="events")

    @property
    def fleet_tree(self) -> FleetTree:
        return self.query_one(FleetTree)

    @property
    def side_table(self) -> DataTable[Text]:
        """The selected host's VMs, or the selected rack's hosts."""
        return self.query_one("#host-vms", DataTable)

    def on_mount(self) -> None:
        self.fleet_tree.show_root = False
        self.fleet_tree.focus()

    def on_resize(self) -> None:
        if self._width() != self._detail_width:
            self._show_detail()

    # --- data -------------------------------------------------------------------------

    def refresh_data(self) -> None:
        self._maintenance = self.ops.hosts_in_maintenance()
        self._now = self.ops.store_now()
        self._offs = self.ops.power_offs()
        self._topology = self.ops.topology()
        self._rack_of = {r.name: r for r in self._topology.racks}
        if self._hosts_read:  # every refresh but the first (see _read_hosts)
            self._read_hosts()
        else:  # the first frame: the racks' totals, one query; hosts come right after it
            self._totals = self.ops.rack_totals()
        if not self._built or self._shape_changed():
            self._build_tree()
        else:
            self._relabel()
        if self._hosts_read:
            self._show_detail()
        else:
            self.call_after_refresh(self._after_first_frame)

    def _read_hosts(self) -> None:
        """Every host, what each host's VMs hold and when each host last answered: for
        the detail pane, the hosts' lines and the filter, not for the tree's first frame
        (10,000 hosts and a sum over 100,000 VMs are read once it is drawn, or first when
        something shown needs them)."""
        self._hosts = {h.name: h for h in self.ops.hosts()}
        self._held = self.ops.allocated()
        self._seen = self.ops.host_sightings(list(self._hosts.values()))
        self._by_rack = {}
        self._by_rack = self._racks(filtered=False)
        self._totals = {rack: rack_totals(hosts) for rack, hosts in self._by_rack.items()}
        self._hosts_read = True

    def _need_hosts(self) -> None:
        if not self._hosts_read:
            self._read_hosts()

    def _after_first_frame(self) -> None:
        if not self._hosts_read:
            self._read_hosts()
            self._relabel()
        self._show_detail()

    def _shape_changed(self) -> bool:
        shown = {n.data[1] for n in self._all_nodes() if n.data and n.data[0] == "host"}
        return bool(shown - set(self._hosts))

    def _all_nodes(self) -> list[TreeNode[Node]]:
        found, stack = [], list(self.fleet_tree.root.children)
        while stack:
            node = stack.pop()
            found.append(node)
            stack.extend(node.children)
        return found

    def _racks(self, *, filtered: bool = True) -> dict[str, list[Host]]:
        if not (filtered and self.host_filter) and self._by_rack:
            return self._by_rack  # every host: read once per refresh
        by_rack: dict[str, list[Host]] = defaultdict(list)
        needle = self.host_filter.lower() if filtered else ""
        for host in sorted(self._hosts.values(), key=lambda h: h.name):
            if needle in host.name.lower() or needle in host.rack.lower():
                by_rack[host.rack].append(host)
        return by_rack

    def _build_tree(self) -> None:
        """(Re)build the tree; what was open stays open and the cursor stays on its node."""
        tree = self.fleet_tree
        first = not self._built
        was_open = {n.data for n in self._all_nodes() if n.data and n.is_expanded}
        was_at = tree.cursor_node.data if tree.cursor_node is not None else None
        topology = self._topology
        tree.clear()
        opens = bool(self.host_filter) or any(d and d[0] == "rack" for d in was_open)
        if opens:
            self._need_hosts()
        shown = self._racks() if opens else {}
        for site in topology.sites:
            site_node = tree.root.add(
                Text(site.name, style="bold"), data=("site", site.name), expand=True
            )
            for room in (r for r in topology.rooms if r.site == site.name):
                data = ("room", room.name)
                opened = bool(self.host_filter) or data in was_open
                room_node = site_node.add(
                    room.name, data=data, expand=opened or (first and len(topology.rooms) < 4)
                )
                for rack in (k for k in topology.racks if k.room == room.name):
                    hosts = shown.get(rack.name, [])
                    if self.host_filter and not hosts:
                        continue
                    rack_node = room_node.add(
                        rack_label(rack, self._totals.get(rack.name, RackTotals())),
                        data=("rack", rack.name),
                        allow_expand=True,
                    )
                    if self.host_filter or ("rack", rack.name) in was_open:
                        self._add_hosts(rack_node, hosts)
                        rack_node.expand()
        self._built = bool(topology.sites)
        self._put_cursor(was_at)

    def _put_cursor(self, data: Node | None) -> None:
        tree = self.fleet_tree
        node = next((n for n in self._all_nodes() if n.data == data), None)
        if node is None and tree.root.children:
            first = tree.root.children[0]
            node = first.children[0] if first.children else first
        if node is not None:
            _ = tree.last_line  # lays the tree out again, so the node knows its line
            tree.move_cursor(node)

    def _add_hosts(self, rack_node: TreeNode[Node], hosts: list[Host]) -> None:
        for host in hosts:
            rack_node.add_leaf(self._badges(host), data=("host", host.name))

    def _badges(self, host: Host) -> Text:
        self._need_hosts()
        seen = self._seen.get(host.name)
        return host_badges(
            host,
            self._allocation(host.name),
            host.name in self._maintenance,
            stale=stale_note(seen, self._now) if seen else "",
            off_by=off_word(host, self._offs.get(host.name)),
        )

    def on_tree_node_expanded(self, event: Tree.NodeExpanded[Node]) -> None:
        """Hosts are added to a rack when it is first opened: 10,000 hosts cost nothing
        until someone looks."""
        node = event.node
        if node.data and node.data[0] == "rack" and not node.children:
            self._need_hosts()
            self._add_hosts(node, self._racks().get(node.data[1], []))

    def _relabel(self) -> None:
        racks = self._rack_of
        for node in self._all_nodes():
            if not node.data:
                continue
            kind, name = node.data
            if kind == "host" and name in self._hosts:
                node.set_label(self._badges(self._hosts[name]))
            elif kind == "rack" and name in racks:
                node.set_label(rack_label(racks[name], self._totals.get(name, RackTotals())))

    def _allocation(self, host: str) -> Allocation:
        return self._held.get(host, Allocation())

    def select_host(self, name: str) -> None:
        """Put the tree's cursor on a host (opening its room and rack), as a jump from
        elsewhere does; a filter that hides it is cleared."""
        self._need_hosts()
        host = self._hosts.get(name)
        if host is None:
            self.notify(f"There is no host named {name!r} in the inventory.", severity="warning")
            return
        needle = self.host_filter.lower()
        if needle and needle not in host.name.lower() and needle not in host.rack.lower():
            self.action_clear_filter()
        for node in self._all_nodes():
            if node.data in (("room", host.room), ("rack", host.rack)):
                node.expand()
        rack = next(n for n in self._all_nodes() if n.data == ("rack", host.rack))
        if not rack.children:
            self._add_hosts(rack, self._racks().get(host.rack, []))
        self._put_cursor(("host", name))
        self.fleet_tree.focus()

    # --- selection and detail ------------------------------------------------------------

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted[Node]) -> None:
        self.selected = event.node.data
        self._show_detail()

    def _width(self) -> int:
        """Columns the detail pane can fill (before the first layout: a wide guess)."""
        width = self.query_one("#detail-pane").scrollable_content_region.width
        return width - 1 if width > 20 else 100

    def _show_detail(self) -> None:
        if not self._hosts_read:  # before the first frame: filled right after it
            return
        detail = self.query_one("#detail", Static)
        spark = self.query_one("#spark", Static)
        table = self.side_table
        events = self.query_one("#events", Static)
        was_on = self._side_key() if self._side_for == self.selected else None
        self._side_for = self.selected
        table.clear(columns=True)
        table.display = False
        spark.display = False
        events.update("")
        self._show_figures_age()
        if self.selected is None:
            return
        kind, name = self.selected
        hosts = [h for h in self._hosts.values() if _within(h, kind, name)]
        racks = self._rack_of
        width = self._detail_width = self._width()
        if kind == "host" and name in self._hosts:
            host = self._hosts[name]
            detail.update(
                host_detail(
                    host,
                    self._allocation(name),
                    maintenance=name in self._maintenance,
                    rack=racks.get(host.rack),
                    rack_hosts=[h for h in self._hosts.values() if h.rack == host.rack],
                    width=width,
                    cpu_map=self.ops.host_cores(name),
                    contention=cpu_contention(self.ops, name),
                    why_off=off_sentence(host, self._offs.get(name), self._now),
                )
            )
            spark.update(cpu_history(self.ops.host_history(name), width))
            spark.display = True
            table.display = True
            self._host_vms(table, name)
            recent = self.ops.events(host=name, limit=8)
            events.update(
                Text(
                    "\n".join(f"{when(e.ts)}  {for_terminal(e.message)}" for e in recent)
                    or "No events recorded for this host.",
                    style="dim",
                )
            )
        else:
            rack = racks.get(name) if kind == "rack" else None
            detail.update(
                group_detail(
                    kind,
                    name,
                    hosts,
                    self._held,
                    maintenance=self._maintenance,
                    rack=rack,
                    width=width,
                    off_by={h.name: off_word(h, self._offs.get(h.name)) for h in hosts},
                )
            )
            if kind == "rack":
                table.display = True
                for heading in RACK_HOST_HEADINGS:
                    table.add_column(heading)
                for host in hosts:
                    row = rack_host_row(
                        host,
                        self._allocation(host.name),
                        host.name in self._maintenance,
                        off_word(host, self._offs.get(host.name)),
                    )
                    _add_row(table, *row, key=host.name)
        if was_on is not None:
            with suppress(RowDoesNotExist):
                table.move_cursor(row=table.get_row_index(was_on))

    def _show_figures_age(self) -> None:
        """Between two whole syncs of a big fleet: how old the figures shown are (the
        pane's, and the tree's cpu%, whatever is selected)."""
        note = self.query_one("#figures-age", Static)
        figures = self.ops.figures_age()  # (the header says when the states were read)
        said = figures.as_read("CPU, memory and power", self._now)
        note.update(Text(said, style="yellow"))
        note.display = bool(said)

    def _host_vms(self, table: DataTable[Text], host: str) -> None:
        vms = self.ops.vms(host=host, limit=HOST_VMS_SHOWN)
        seen = self.ops.vm_sightings(vms)
        for heading in VM_HEADINGS:
            table.add_column(heading)
        for vm in vms:
            running = vm.state is VmState.RUNNING
            stale = seen[vm.name].stale  # its host did not list it: as last seen
            _add_row(
                table,
                vm.name,
                state_as_seen(vm.state.value, seen[vm.name], self._now),
                vm.pool or "-",
                str(vm.vcpus),
                format_mib(vm.memory_mib),
                UNKNOWN if stale else format_percent(vm.cpu_util) if running else "-",
                key=vm.name,
            )

    # --- from the side table: a VM's detail, a rack's host ---------------------------------

    def _side_key(self) -> str | None:
        """The key (a VM's or a host's name) of the side table's row under its cursor."""
        table = self.side_table
        if not table.row_count:
            return None
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value

    def _side_vm(self) -> str | None:
        """The VM under the side table's cursor, when it lists a host's VMs."""
        if self.selected is None or self.selected[0] != "host":
            return None
        return self._side_key()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        key = event.row_key.value
        if event.data_table is not self.side_table or key is None or self.selected is None:
            return
        if self.selected[0] == "host":
            from vdctui.ui.screens.vm_detail import VmDetailScreen

            self.app.push_screen(VmDetailScreen(key))
        elif self.selected[0] == "rack":
            self.select_host(key)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "migrate" and not (self.side_table.has_focus and self._side_vm()):
            return False
        return super().check_action(action, parameters)

    def on_descendant_focus(self) -> None:
        self.refresh_bindings()

    def on_descendant_blur(self) -> None:
        self.refresh_bindings()

    def action_migrate(self) -> None:
        """Migrate the VM under the cursor of a host's VM list."""
        from vdctui.ui import actions  # its dialogs: not before the first frame

        name = self._side_vm()
        if name is not None:
            actions.choose_and_migrate(self.vdc, [name])

    # --- filter ------------------------------------------------------------------------------

    def action_filter(self) -> None:
        self.query_one("#tree-filter", Prompt).open(self.host_filter)

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "tree-filter":  # the command line's typing is not a filter
            self.apply_filter(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "tree-filter":
            self.query_one("#tree-filter", Prompt).close()
            self.fleet_tree.focus()

    def apply_filter(self, text: str) -> None:
        self._need_hosts()
        self.host_filter = text.strip()
        self._build_tree()

    def action_clear_filter(self) -> None:
        box = self.query_one("#tree-filter", Prompt)
        if not box.is_open and not self.host_filter:
            raise SkipAction()  # nothing to clear: Esc goes back (the app's binding)
        box.value = ""
        box.close()
        if self.host_filter:
            self.apply_filter("")
        self.fleet_tree.focus()


def _add_row(table: DataTable[Text], *cells: object, key: str) -> None:
    """Cells as plain, escaped text: a name from a host is never read as markup."""
    table.add_row(*(Text(cell(value)) for value in cells), key=key)


def _within(host: Host, kind: str, name: str) -> bool:
    if kind == "rack":
        return host.rack == name
    if kind == "room":
        return host.room == name
    if kind == "site":
        return host.site == name
    return kind == "host" and host.name == name
