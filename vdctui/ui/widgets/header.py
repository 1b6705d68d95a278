"""The top line: data center, backend, fleet clock and counts, read-only state."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

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

    def render(self) -> Text:
        line = Text()
        line.append("vdctui ", style="bold")
        line.append(f"{self.data_center or '-'} ", style="bold cyan")
        line.append(f"[{self.backend}] ", style="magenta")
        if self.clock is not None:
            stamp = datetime.fromtimestamp(self.clock, UTC).strftime("%Y-%m-%d %H:%M:%S")
            line.append(f"{stamp}")
            if self.speed is not None and self.speed != 1:
                line.append(f" x{self.speed:g}", style="yellow")
            line.append("  ")
        c = self.counts
        if c is not None:
            down = c.hosts - c.hosts_up
            line.append(f"hosts {c.hosts_up}/{c.hosts} up", style="red" if down else "green")
            line.append(f"  VMs {c.running:,}/{c.vms:,} running")
            if c.tasks_running:
                line.append(f"  tasks {c.tasks_running} running", style="yellow")
        if self.read_only:
            line.append("  READ-ONLY", style="bold reverse yellow")
        return line
