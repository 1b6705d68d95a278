"""The top line: data center, backend, fleet clock and counts, the last sync, read-only state.

Until the first sync with the fleet is done it says "syncing…"; then when the last one
succeeded and how long ago; "STALE" (with the age, and why) once syncs stop succeeding;
"figures 42s old" while the CPU, memory and power figures are older than the states
(between two whole syncs of a big fleet: vdctui.ops.figures).
"""

from __future__ import annotations

from datetime import UTC, datetime

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from vdctui.ops.figures import FiguresAge, age_words
from vdctui.ops.reads import FleetCounts


class FleetHeader(Static):
    """One line that says where you are and what the fleet is doing."""

    DEFAULT_CSS = """
    FleetHeader { dock: top; height: 1; background: $panel; color: $text; padding: 0 1; }
    """

    data_center: reactive[str] = reactive("")
    """The data center's name (the site, or the inventory file)."""
    backend: reactive[str] = reactive("connecting")
    """emulated | ssh | connecting."""
    clock: reactive[float | None] = reactive(None)
    """The fleet's clock (UNIX seconds), None until it answers."""
    speed: reactive[float | None] = reactive(None)
    """Virtual seconds per wall second, for an emulated fleet."""
    counts: reactive[FleetCounts | None] = reactive(None)
    read_only: reactive[bool] = reactive(False)
    in_maintenance: reactive[int] = reactive(0)
    open_alerts: reactive[int] = reactive(0)
    """Intrusion alerts not answered yet (`:alerts`)."""
    """Hosts in maintenance (counted as up, but taking no VMs)."""
    synced_at: reactive[float | None] = reactive(None)
    """When the last sync that succeeded ended (UNIX seconds, the console's clock)."""
    sync_error: reactive[str | None] = reactive(None)
    """Why the last sync failed; None when it succeeded (or none ended yet)."""
    stale_after: reactive[float] = reactive(30.0)
    """Seconds after which the last good sync is too old to trust."""
    now: reactive[float] = reactive(0.0)
    """The console's clock, ticking, for the age of the sync."""
    figures: reactive[FiguresAge | None] = reactive(None)
    """When the CPU, memory and power figures were read: older than the states between
    two whole syncs of a big fleet, and then said with their age."""

    def render(self) -> Text:
        narrow = self.size.width < 120  # 100 columns: no product name, no date
        line = Text()
        if not narrow:
            line.append("vdctui ", style="bold")
        line.append(f"{self.data_center or '-'} ", style="bold cyan")
        line.append(f"[{self.backend}] ", style="magenta")
        if self.clock is not None:
            shape = "%H:%M:%S" if narrow else "%Y-%m-%d %H:%M:%S"
            stamp = datetime.fromtimestamp(self.clock, UTC).strftime(shape)
            line.append(f"{stamp}")
            if self.speed is not None and self.speed != 1:
                line.append(f" x{self.speed:g}", style="yellow")
            line.append("  ")
        c = self.counts
        if c is not None:
            down = c.hosts - c.hosts_up
            line.append(f"hosts {c.hosts_up}/{c.hosts} up", style="red" if down else "green")
            if self.in_maintenance:
                line.append(f" ({self.in_maintenance} in maintenance)", style="yellow")
            line.append(f"  VMs {c.running:,}/{c.vms:,} running")
            if c.tasks_running:
                line.append(f"  tasks {c.tasks_running} running", style="yellow")
        note = self.figures.note(self.now) if self.figures and self.synced_at else ""
        line.append_text(self._sync_state(short=narrow and bool(note)))
        if note:
            line.append(f"  {note}", style="yellow")
        if self.open_alerts:
            line.append(f"  ALERTS {self.open_alerts}", style="bold reverse red")
        if self.read_only:
            line.append("  READ-ONLY", style="bold reverse yellow")
        return line

    def _sync_state(self, *, short: bool = False) -> Text:
        """`short`: without the time of day (room for the figures' age at 100 columns)."""
        if self.synced_at is None:
            if self.sync_error:
                return Text(f"  sync failing: {self.sync_error}", style="bold red")
            return Text("  syncing…", style="yellow")
        stamp = datetime.fromtimestamp(self.synced_at, UTC).strftime("%H:%M:%S")
        age = max(self.now - self.synced_at, 0.0)
        if self.sync_error or age > self.stale_after:
            why = f" ({self.sync_error})" if self.sync_error else ""
            return Text(
                f"  STALE: last sync {stamp}, {_age(age)} ago{why}",
                style="bold red",
            )
        if short:
            return Text(f"  synced {_age(age)} ago", style="dim")
        return Text(f"  synced {stamp} ({_age(age)} ago)", style="dim")


_age = age_words
