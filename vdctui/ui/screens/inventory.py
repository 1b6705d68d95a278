"""Home: the physical tree (sites, rooms, racks, hosts) and, beside it, what the
selection is and does: capacity, power against the rack budget, its VMs, its events."""

from __future__ import annotations

from collections import defaultdict

from rich.text import Text
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import DataTable, Input, Static, Tree
from textual.widgets.tree import TreeNode

from vdctui.columns import cell, when
from vdctui.model import Host, HostState, Rack
from vdctui.ops.placement import Allocation, Ratios
from vdctui.ui.screens.base import FleetScreen
from vdctui.ui.widgets.bars import capacity_bar, ratio_bar, sparkline
from vdctui.ui.widgets.prompt import Prompt
from vdctui.units import format_mib, format_percent, format_watts

Node = tuple[str, str]  # (kind, name): ("site", "dc1"), ("rack", "rk1"), ("host", "rk1-h01")
STATE_STYLE = {
    HostState.UP: "green",
    HostState.OFF: "dim",
    HostState.CRASHED: "bold red",
    HostState.UNREACHABLE: "bold yellow",
}
HOST_VMS_SHOWN = 200


class FleetTree(Tree[Node]):
    """Right opens a branch (or steps into it), left closes it (or steps out)."""

    BINDINGS = [
        Binding("right", "open_branch", "Open", id="inventory.open", show=False),
        Binding("left", "close_branch", "Close", id="inventory.close", show=False),
    ]

    def action_open_branch(self) -> None:
        node = self.cursor_node
        if node is None or not node.allow_expand:
            return
        if node.is_expanded:
            self.action_cursor_down()
        else:
            node.expand()

    def action_close_branch(self) -> None:
        node = self.cursor_node
        if node is None:
            return
        if node.is_expanded and node.allow_expand:
            node.collapse()
        elif node.parent is not None and node.parent is not self.root:
            self.move_cursor(node.parent)


def host_badges(host: Host, held: Allocation, maintenance: bool = False) -> Text:
    label = Text(host.name)
    if maintenance:
        label.append(" maintenance", style="bold magenta")
    if host.state is not HostState.UP:
        label.append(f" {host.state}", style=STATE_STYLE[host.state])
        return label
    busy = host.cpu_util
    label.append(f" {format_percent(busy):>3}%", style="red" if busy and busy >= 0.9 else "dim")
    ratio = held.vcpus / max(host.usable_cpus, 1)
    if ratio > Ratios().cpu:
        label.append(f" overcommitted {ratio:.1f}x", style="bold yellow")
    elif ratio > 1:
        label.append(f" {ratio:.1f}x", style="dim")
    if host.usable_memory_mib and held.memory_mib > 0.9 * host.usable_memory_mib:
        label.append(" mem-full", style="red")
    return label


class InventoryScreen(FleetScreen):
    DEFAULT_CSS = """
    InventoryScreen #inventory-tree { width: 44; border-right: solid $primary; }
    InventoryScreen #detail-pane { padding: 0 1; }
    InventoryScreen #detail { height: auto; }
    InventoryScreen #spark { height: 1; margin: 1 0; }
    InventoryScreen #host-vms { height: auto; max-height: 16; }
    InventoryScreen #events { height: auto; margin-top: 1; }
    """
    BINDINGS = [
        Binding("slash", "filter", "Filter", id="inventory.filter"),
        Binding("escape", "clear_filter", "Clear", id="inventory.clear", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.selected: Node | None = None
        self.host_filter = ""
        self._hosts: dict[str, Host] = {}
        self._held: dict[str, Allocation] = {}
        self._maintenance: set[str] = set()
        self._built = False

    def body(self) -> ComposeResult:
        yield Prompt(placeholder="filter hosts: name or rack substring", id="tree-filter")
        with Horizontal():
            yield FleetTree("fleet", id="inventory-tree")
            with VerticalScroll(id="detail-pane"):
                yield Static("Select a site, room, rack or host.", id="detail")
                yield Static("", id="spark")
                yield DataTable(id="host-vms", cursor_type="row")
                yield Static("", id="events")

    @property
    def fleet_tree(self) -> FleetTree:
        return self.query_one(FleetTree)

    def on_mount(self) -> None:
        self.fleet_tree.show_root = False
        self.fleet_tree.focus()

    # --- data -------------------------------------------------------------------------

    def refresh_data(self) -> None:
        self._hosts = {h.name: h for h in self.ops.hosts()}
        self._held = self.ops.allocated()
        self._maintenance = self.ops.hosts_in_maintenance()
        if not self._built or self._shape_changed():
            self._build_tree()
        else:
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

    def _racks(self) -> dict[str, list[Host]]:
        by_rack: dict[str, list[Host]] = defaultdict(list)
        needle = self.host_filter.lower()
        for host in sorted(self._hosts.values(), key=lambda h: h.name):
            if needle in host.name.lower() or needle in host.rack.lower():
                by_rack[host.rack].append(host)
        return by_rack

    def _build_tree(self) -> None:
        topology = self.ops.topology()
        tree = self.fleet_tree
        tree.clear()
        by_rack = self._racks()
        for site in topology.sites:
            site_node = tree.root.add(
                Text(site.name, style="bold"), data=("site", site.name), expand=True
            )
            for room in (r for r in topology.rooms if r.site == site.name):
                room_node = site_node.add(
                    room.name,
                    data=("room", room.name),
                    expand=bool(self.host_filter) or len(topology.rooms) < 4,
                )
                for rack in (k for k in topology.racks if k.room == room.name):
                    hosts = by_rack.get(rack.name, [])
                    if self.host_filter and not hosts:
                        continue
                    rack_node = room_node.add(
                        self._rack_label(rack, hosts), data=("rack", rack.name), allow_expand=True
                    )
                    if self.host_filter:  # show what matched
                        self._add_hosts(rack_node, hosts)
                        rack_node.expand()
        if not self._built and topology.sites:
            first = tree.root.children[0]
            tree.move_cursor(first.children[0] if first.children else first)
        self._built = bool(topology.sites)

    def _add_hosts(self, rack_node: TreeNode[Node], hosts: list[Host]) -> None:
        for host in hosts:
            rack_node.add_leaf(self._badges(host), data=("host", host.name))

    def _badges(self, host: Host) -> Text:
        return host_badges(host, self._allocation(host.name), host.name in self._maintenance)

    def on_tree_node_expanded(self, event: Tree.NodeExpanded[Node]) -> None:
        """Hosts are added to a rack when it is first opened: 10,000 hosts cost nothing
        until someone looks."""
        node = event.node
        if node.data and node.data[0] == "rack" and not node.children:
            self._add_hosts(node, self._racks().get(node.data[1], []))

    def _rack_label(self, rack: Rack, hosts: list[Host]) -> Text:
        label = Text(rack.name)
        watts = sum(h.power_watts or 0.0 for h in hosts)
        label.append(
            f" {watts / 1000:.1f}/{rack.power_budget_kw:g} kW",
            style="red" if watts > rack.power_budget_kw * 1000 else "dim",
        )
        if any(h.state is not HostState.UP for h in hosts):
            label.append(" !", style="bold red")
        return label

    def _relabel(self) -> None:
        for node in self._all_nodes():
            if node.data and node.data[0] == "host" and node.data[1] in self._hosts:
                node.set_label(self._badges(self._hosts[node.data[1]]))

    def _allocation(self, host: str) -> Allocation:
        return self._held.get(host, Allocation())

    # --- selection and detail ------------------------------------------------------------

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted[Node]) -> None:
        self.selected = event.node.data
        self._show_detail()

    def _show_detail(self) -> None:
        detail = self.query_one("#detail", Static)
        spark = self.query_one("#spark", Static)
        table = self.query_one("#host-vms", DataTable)
        events = self.query_one("#events", Static)
        table.clear(columns=True)
        table.display = False
        spark.display = False
        events.update("")
        if self.selected is None:
            return
        kind, name = self.selected
        hosts = [h for h in self._hosts.values() if _within(h, kind, name)]
        if kind == "host" and name in self._hosts:
            host = self._hosts[name]
            detail.update(self._host_detail(host))
            history = self.ops.host_history(name)
            spark.update(Text("CPU, recent syncs: ", style="dim") + sparkline(history))
            spark.display = True
            table.display = True
            self._host_vms(table, name)
            recent = self.ops.events(host=name, limit=8)
            events.update(
                Text(
                    "\n".join(f"{when(e.ts)}  {e.message}" for e in recent)
                    or "No events recorded for this host.",
                    style="dim",
                )
            )
        else:
            detail.update(self._group_detail(kind, name, hosts))
            if kind == "rack":
                table.display = True
                self._rack_hosts(table, hosts)

    def _host_detail(self, host: Host) -> Text:
        held = self._allocation(host.name)
        ratios = Ratios()
        text = Text()
        text.append(f"{host.name}", style="bold")
        text.append(f"  {host.state}", style=STATE_STYLE[host.state])
        if host.name in self._maintenance:
            text.append("  in maintenance", style="bold magenta")
        text.append(f"  {host.model}  rack {host.rack} · {host.room} · {host.site}\n")
        if host.reason:
            text.append(f"{host.reason}\n", style="yellow")
        text.append(
            f"{host.cores} cores / {host.cpus} threads @ {host.mhz} MHz · "
            f"{format_mib(host.memory_mib)} · NIC {host.nic_gbps:g} Gbit/s · "
            f"reserved {host.reserved_cpus} CPUs, "
            f"{format_mib(host.reserved_memory_mib)}\n\n"
        )
        cpu_capacity = host.usable_cpus * ratios.cpu
        used_vcpus = (host.cpu_util or 0.0) * host.cpus
        text.append("CPU     ")
        text.append(capacity_bar(used_vcpus, held.vcpus, cpu_capacity))
        text.append(
            f"  {format_percent(host.cpu_util)}% busy · {held.vcpus} vCPUs on "
            f"{host.usable_cpus} CPUs ({held.vcpus / max(host.usable_cpus, 1):.1f}x, "
            f"limit {ratios.cpu:g}x)\n"
        )
        text.append("Memory  ")
        text.append(capacity_bar(host.memory_used_mib, held.memory_mib, host.usable_memory_mib))
        text.append(
            f"  {format_mib(host.memory_used_mib)} used of {format_mib(host.usable_memory_mib)}\n"
        )
        rack = next((r for r in self.ops.topology().racks if r.name == host.rack), None)
        if rack is not None:
            rack_watts = sum(
                h.power_watts or 0.0 for h in self._hosts.values() if h.rack == rack.name
            )
            text.append("Power   ")
            text.append(ratio_bar(rack_watts, rack.power_budget_kw * 1000))
            text.append(
                f"  this host {format_watts(host.power_watts)} W · rack {rack_watts / 1000:.2f} "
                f"of {rack.power_budget_kw:g} kW\n"
            )
            text.append(
                f"Network NIC {host.nic_gbps:g} Gbit/s · rack uplink {rack.uplink_gbps:g} Gbit/s\n"
            )
        text.append(f"Storage {', '.join(host.datastores) or 'none'}")
        return text

    def _group_detail(self, kind: str, name: str, hosts: list[Host]) -> Text:
        up = [h for h in hosts if h.state is HostState.UP]
        cpus = sum(h.usable_cpus for h in up)
        held = sum(self._allocation(h.name).vcpus for h in up)
        memory = sum(h.usable_memory_mib for h in up)
        used = sum(h.memory_used_mib for h in up)
        watts = sum(h.power_watts or 0.0 for h in hosts)
        text = Text()
        text.append(f"{kind} {name}", style="bold")
        text.append(f"  {len(up)} of {len(hosts)} hosts up\n\n")
        busy = sum((h.cpu_util or 0.0) * h.cpus for h in up)
        text.append("CPU     ")
        text.append(capacity_bar(busy, held, cpus * Ratios().cpu))
        text.append(f"  {held} vCPUs on {cpus} CPUs\n")
        text.append("Memory  ")
        text.append(capacity_bar(used, used, memory))
        text.append(f"  {format_mib(used)} used of {format_mib(memory)}\n")
        text.append(f"Power   {watts / 1000:.2f} kW")
        if kind == "rack":
            rack = next((r for r in self.ops.topology().racks if r.name == name), None)
            if rack is not None:
                text.append(
                    f" of {rack.power_budget_kw:g} kW budget · uplink {rack.uplink_gbps:g} Gbit/s"
                )
        down = [h for h in hosts if h.state is not HostState.UP]
        if down:
            text.append("\n\nNot up: ", style="bold red")
            text.append(", ".join(f"{h.name} ({h.state})" for h in down[:20]))
        return text

    def _rack_hosts(self, table: DataTable[Text], hosts: list[Host]) -> None:
        for header in ("HOST", "STATE", "CPU%", "VCPUS HELD", "MEMORY USED", "WATTS"):
            table.add_column(header)
        for host in hosts:
            held = self._allocation(host.name)
            _add_row(
                table,
                host.name,
                host.state.value,
                format_percent(host.cpu_util),
                f"{held.vcpus}/{host.usable_cpus}",
                f"{format_mib(host.memory_used_mib)}/{format_mib(host.usable_memory_mib)}",
                format_watts(host.power_watts),
            )

    def _host_vms(self, table: DataTable[Text], host: str) -> None:
        vms = self.ops.vms(host=host, limit=HOST_VMS_SHOWN)
        for header in ("VM", "STATE", "POOL", "VCPUS", "MEMORY", "CPU%"):
            table.add_column(header)
        for vm in vms:
            _add_row(
                table,
                vm.name,
                vm.state.value,
                vm.pool or "-",
                str(vm.vcpus),
                format_mib(vm.memory_mib),
                format_percent(vm.cpu_util),
            )

    # --- filter ------------------------------------------------------------------------------

    def action_filter(self) -> None:
        self.query_one("#tree-filter", Prompt).open(self.host_filter)

    def on_input_changed(self, event: Input.Changed) -> None:
        self.apply_filter(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.query_one("#tree-filter", Prompt).close()
        self.fleet_tree.focus()

    def apply_filter(self, text: str) -> None:
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


def _add_row(table: DataTable[Text], *cells: object) -> None:
    """Cells as plain, escaped text: a name from a host is never read as markup."""
    table.add_row(*(Text(cell(value)) for value in cells))


def _within(host: Host, kind: str, name: str) -> bool:
    return {"site": host.site, "room": host.room, "rack": host.rack, "host": host.name}.get(
        kind
    ) == name
