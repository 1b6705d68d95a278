"""One VM: where it runs (host, rack, pool, datastore), what it may grow to, its NICs,
what happened to it lately and where it has been migrated. Opened with Enter from the
VMs list or from a host's VMs in the inventory; Esc goes back."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Static, TabbedContent, TabPane

from vdctui.columns import MIGRATION_COLUMNS, cell, when
from vdctui.escape import for_terminal as safe
from vdctui.model import (
    AuditRecord,
    Datastore,
    FleetEvent,
    Host,
    MigrationRecord,
    Network,
    Vm,
    VmState,
)
from vdctui.ops import Refused
from vdctui.ops.contention import vm_steal
from vdctui.ops.vm_history import VmTrend
from vdctui.ui import actions
from vdctui.ui.screens.base import FleetScreen
from vdctui.ui.widgets.bars import spark_text
from vdctui.ui.widgets.snapshots import SnapshotsPane
from vdctui.units import UNKNOWN, format_bytes, format_duration, format_gib, format_mib

EVENTS_SHOWN = 8
MIGRATIONS_SHOWN = 50

HISTORY_HEADINGS = ("started", "from", "to", "kind", "outcome", "data", "downtime", "who")


def percent(value: float | None) -> str:
    return UNKNOWN if value is None else f"{100 * value:.0f} %"


def size_gib(gib: float | None) -> str:
    """A size nobody could read (None, or 0 from a driver that does not know) is `—`."""
    return format_gib(gib) if gib else UNKNOWN


def disks_line(vm: Vm) -> str:
    """The VM's disks as the hypervisor lists them, else the one it was made with."""
    if vm.disks:
        return "; ".join(
            f"{d.name} {size_gib(d.capacity_bytes / 2**30 if d.capacity_bytes else None)}"
            + (f" {d.path}" if d.path else "")
            for d in vm.disks
        )
    return size_gib(vm.disk_gib)


def nics_line(vm: Vm, network: Network | None) -> str:
    """The VM's interfaces as the hypervisor lists them, else the network it was made on."""
    if vm.nics:
        return "; ".join(
            f"{nic.source} ({', '.join(x for x in (nic.kind, nic.model, nic.mac) if x)})"
            for nic in vm.nics
        )
    if not vm.network:
        return UNKNOWN
    vlan = f" (VLAN {network.vlan})" if network is not None and network.vlan else ""
    return f"{vm.network}{vlan}"


def vm_facts(
    vm: Vm,
    host: Host | None,
    datastore: Datastore | None,
    network: Network | None,
    trend: VmTrend | None = None,
    steal: float | None = None,
    figures_age: str = "",
) -> Text:
    """The VM's facts as the detail view prints them; what is not known says `—`.
    `steal`: the share of its vCPUs' time it waits for a CPU (None: not measured);
    `figures_age`: how old its CPU, memory and uptime are, when older than its state."""
    text = Text()
    text.append(safe(vm.name), style="bold")
    text.append(f"  {vm.state}", style="green" if vm.state is VmState.RUNNING else "yellow")
    if vm.uuid:
        text.append(f"  uuid {safe(vm.uuid)}", style="dim")
    text.append("\n\n")
    text.append("Host       ", style="bold")
    if vm.host is None:
        text.append("none (not placed)\n")
    elif host is None:
        text.append(f"{safe(vm.host)} (not in the inventory)\n")
    else:
        text.append(f"{safe(host.name)} ({host.state})")
        text.append(safe(f" · rack {host.rack} · {host.room} · {host.site}"))
        text.append("   h: show it in the inventory\n", style="dim")
    text.append("Pool       ", style="bold")
    text.append(f"{safe(vm.pool) or 'none'}\n")
    text.append("Datastore  ", style="bold")
    if not vm.datastore:
        text.append(f"{UNKNOWN}\n")
    elif datastore is None:
        text.append(f"{safe(vm.datastore)}\n")
    else:
        capacity = size_gib(datastore.capacity_gib)
        text.append(f"{safe(datastore.name)} ({datastore.kind}, capacity {capacity})\n")
    text.append("Disks      ", style="bold")
    text.append(safe(disks_line(vm)) + "\n")
    text.append("NICs       ", style="bold")
    text.append(safe(nics_line(vm, network)) + "\n")
    text.append("vCPUs      ", style="bold")
    text.append(f"{vm.vcpus} of at most {vm.max_vcpus}\n")
    text.append("Memory     ", style="bold")
    text.append(f"{format_mib(vm.memory_mib)} of at most {format_mib(vm.max_memory_mib)}")
    if vm.memory_used_mib is not None:
        text.append(f" · {format_mib(vm.memory_used_mib)} held on its host")
    text.append("\n")
    running = vm.state is VmState.RUNNING
    text.append("Now        ", style="bold")
    text.append(f"CPU {percent(vm.cpu_util) if running else UNKNOWN}")
    text.append(f" · steal {percent(steal) if running and steal is not None else UNKNOWN}")
    uptime = format_duration(vm.uptime_s) if running and vm.uptime_s is not None else UNKNOWN
    text.append(f" · up {uptime}")
    dirty = format_bytes(vm.memory_dirty_rate) + "/s" if running else UNKNOWN
    text.append(f" · memory dirtied {dirty}")
    if figures_age:  # between two whole syncs of a big fleet: not now
        text.append(f" · {figures_age}", style="yellow")
    if trend is not None:
        text.append("\n")
        text.append_text(trend_line(trend))
    return text


def trend_line(trend: VmTrend, cells: int = 30) -> Text:
    """CPU and memory at this console's recent syncs, each with its range (a blank where
    the figure was not known; `—` when it never was)."""
    text = Text()
    for label, values in (("Trend      CPU ", trend.cpu), ("  memory ", trend.memory)):
        text.append(label, style="bold" if label.startswith("Trend") else "")
        known = [v for v in values if v is not None]
        if not known:
            text.append(UNKNOWN)
            continue
        text.append(spark_text(values, cells), style="green")
        text.append(f" {100 * min(known):.0f}–{100 * max(known):.0f}%", style="dim")
    count = len(trend.cpu)
    text.append(f"  (last {count} sync{'' if count == 1 else 's'})", style="dim")
    return text


def recent_lines(events: list[FleetEvent], actions: list[AuditRecord]) -> list[str]:
    """What the fleet did to the VM (drift the console saw) and what operators did to it
    (the audit log), newest first."""
    dated = [(e.ts, f"{when(e.ts)}  {safe(e.message)}") for e in events]
    for a in actions:
        outcome = a.result if not a.error else f"{a.result}: {a.error}"
        dated.append((a.ts, f"{when(a.ts)}  {safe(f'{a.action} by {a.actor} ({outcome})')}"))
    dated.sort(key=lambda item: item[0], reverse=True)
    return [line for _, line in dated[:EVENTS_SHOWN]]


def history_row(record: MigrationRecord) -> list[Text]:
    """A migration's cells as plain, escaped text (a str cell would be read as markup)."""
    getters = dict(MIGRATION_COLUMNS)
    return [Text(cell(getters[heading](record)), end="") for heading in HISTORY_HEADINGS]


class VmDetailScreen(FleetScreen):
    DEFAULT_CSS = """
    VmDetailScreen #vm-detail-pane { padding: 0 1; }
    VmDetailScreen #vm-facts { height: auto; }
    VmDetailScreen .vm-detail-title { margin-top: 1; text-style: bold; }
    VmDetailScreen #vm-migrations { height: auto; max-height: 12; }
    VmDetailScreen #vm-events { height: auto; }
    """
    BINDINGS = [
        Binding("escape", "back", "Back", id="vm-detail.back"),
        Binding("h", "show_host", "Show host", id="vm-detail.host"),
        Binding("m", "migrate", "Migrate", id="vm.migrate"),
        Binding("c", "console", "Console", id="vm.console"),
        Binding("S", "tab('vm-tab-snapshots')", "Snapshots", id="vm-detail.snapshots"),
        Binding("x", "show_config", "XML", id="vm-detail.xml", show=False),
        Binding("a", "autostart", "Autostart", id="vm.autostart", show=False),
        Binding("O", "tab('vm-tab-overview')", "Overview", id="vm-detail.overview", show=False),
    ]
    MUTATING = {"migrate", "autostart", "console"}

    def __init__(self, name: str) -> None:
        super().__init__()
        self.vm_name = name
        self.vm: Vm | None = None

    def body(self) -> ComposeResult:
        with TabbedContent(id="vm-tabs"):
            with (
                TabPane("Overview", id="vm-tab-overview"),
                VerticalScroll(id="vm-detail-pane"),
            ):
                yield Static("", id="vm-facts")
                yield Static("Migrations", classes="vm-detail-title")
                table: DataTable[Text] = DataTable(id="vm-migrations", cursor_type="row")
                for heading in HISTORY_HEADINGS:
                    table.add_column(heading.upper())
                yield table
                yield Static("Recent events", classes="vm-detail-title")
                yield Static("", id="vm-events")
            with TabPane("Snapshots (S)", id="vm-tab-snapshots"):
                yield SnapshotsPane(self.vm_name)

    def action_tab(self, tab: str) -> None:
        """Show a tab (S: snapshots, O: overview); the snapshots are read as it opens."""
        self.query_one("#vm-tabs", TabbedContent).active = tab

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if event.pane.id == "vm-tab-snapshots":
            pane = self.query_one(SnapshotsPane)
            pane.load()
            pane.query_one(DataTable).focus()

    def on_mount(self) -> None:
        self.refresh_data()
        self.vdc.update_header(self.header)

    def refresh_data(self) -> None:
        facts = self.query_one("#vm-facts", Static)
        try:
            vm = self.vm = self.ops.vm(self.vm_name)
        except Refused:
            self.vm = None
            facts.update(Text(f"{self.vm_name} is no longer in the inventory.", style="yellow"))
            return
        topology = self.ops.topology()
        host = None
        if vm.host is not None:
            try:
                host = self.ops.host(vm.host)
            except Refused:
                host = None
        datastore = next((d for d in topology.datastores if d.name == vm.datastore), None)
        network = next((n for n in topology.networks if n.name == vm.network), None)
        steal = vm_steal(self.ops, vm.name, vm.host)
        trend = self.ops.vm_trend(vm.name)
        age = self.ops.figures_age().as_read("figures", self.ops.store_now())
        facts.update(vm_facts(vm, host, datastore, network, trend, steal=steal, figures_age=age))
        if self.query_one("#vm-tabs", TabbedContent).active == "vm-tab-snapshots":
            self.query_one(SnapshotsPane).load()
        self._show_history(vm.name)
        lines = recent_lines(
            self.ops.events(vm=vm.name, limit=EVENTS_SHOWN),
            self.ops.audit(target=vm.name, limit=EVENTS_SHOWN),
        )
        self.query_one("#vm-events", Static).update(
            Text("\n".join(lines) or "Nothing recorded for this VM yet.", style="dim")
        )

    def _show_history(self, name: str) -> None:
        table = self.query_one("#vm-migrations", DataTable)
        table.clear()
        records = self.ops.migrations(vm=name, limit=MIGRATIONS_SHOWN)
        for record in records:
            table.add_row(*history_row(record))
        table.display = bool(records)
        if not records:
            self.query_one(".vm-detail-title", Static).update("Migrations: none recorded")

    def action_back(self) -> None:
        self.dismiss()

    async def action_show_host(self) -> None:
        """Go to the VM's host in the inventory tree."""
        if self.vm is None or self.vm.host is None:
            self.notify("This VM is on no host.", severity="warning")
            return
        host = self.vm.host
        self.dismiss()
        await self.app.switch_mode("inventory")
        from vdctui.ui.screens.inventory import InventoryScreen

        screen = self.app.screen
        if isinstance(screen, InventoryScreen):
            screen.select_host(host)

    async def action_show_config(self) -> None:
        """x: the configuration its host holds now (structured, then the XML)."""
        from vdctui.ops import config as vm_config
        from vdctui.ui.screens.vm_config import VmConfigScreen

        xml = await self.vdc.act(vm_config.domain_xml(self.ops, self.vm_name))
        if xml is None:
            return
        autostart = self.vm.autostart if self.vm is not None else None
        try:
            lines = vm_config.structured(xml, autostart)
        except Refused as exc:
            self.notify(str(exc), severity="error")
            return
        self.app.push_screen(VmConfigScreen(self.vm_name, lines, xml))

    def action_autostart(self) -> None:
        """a: autostart on when it is off (or not known), else off; audited."""
        from vdctui.ops import config as vm_config

        on = not (self.vm is not None and self.vm.autostart)
        word = "on" if on else "off"
        self.act(
            vm_config.set_autostart(self.ops, self.vm_name, on),
            f"{self.vm_name}: autostart {word}.",
        )

    def action_migrate(self) -> None:
        if self.vm is not None:
            actions.choose_and_migrate(self.vdc, [self.vm.name])

    def action_console(self) -> None:
        """c: the VM's serial console, the TUI suspended until it ends (Ctrl-])."""
        from vdctui.ui import serial_console

        self.run_worker(serial_console.open_console(self.vdc, self.vm_name), group="act")
