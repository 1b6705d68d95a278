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
from vdctui.ui.widgets.fitting import Part, fitted, part


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
        """The line, fitted to the room: the time of day, the labels, `[emulated]` and
        the counts' long form go first; READ-ONLY, STALE (with its age), the figures'
        age, ALERTS and the running tasks stay (vdctui.ui.widgets.fitting)."""
        narrow = self.size.width < 120  # 100 columns: no product name, no date
        start = {"product": 1, "clock": 1} if narrow else {}
        return fitted(self._parts(), SHRINK, self.size.width, start=start, first=WARNINGS)

    def _parts(self) -> dict[str, Part]:
        parts = {
            "product": part("vdctui", "", style="bold", sep=" "),
            "data_center": part(
                *_shorter(self.data_center or "-", room=12), "", style="bold cyan", sep=" "
            ),
            "backend": part(f"[{self.backend}]", "", style="magenta", sep=" "),
            "clock": self._clock(),
        }
        c = self.counts
        if c is not None:
            up = "red" if c.hosts > c.hosts_up else "green"
            hosts = f"hosts {c.hosts_up}/{c.hosts}"
            parts["hosts"] = part(f"{hosts} up", hosts, "", style=up)
            if self.in_maintenance:
                m = self.in_maintenance
                said = (f"({m} in maintenance)", f"({m} maint.)", "")
                parts["maintenance"] = part(*said, style="yellow", sep=" ")
            vms = (f"VMs {c.running:,}/{c.vms:,} running", f"VMs {c.running}/{c.vms}", "")
            parts["vms"] = part(*vms)
            if c.tasks_running:
                t = c.tasks_running
                parts["tasks"] = part(f"tasks {t} running", f"{t} tasks", style="yellow")
        parts["sync"] = self._sync_state()
        note = self.figures.note(self.now) if self.figures and self.synced_at else ""
        if note:
            parts["figures"] = part(note, style="yellow")
        if self.open_alerts:
            parts["alerts"] = part(f"ALERTS {self.open_alerts}", style="bold reverse red")
        if self.read_only:
            parts["read_only"] = part("READ-ONLY", style="bold reverse yellow")
        return parts

    def _clock(self) -> Part:
        """The fleet's clock: with its date, without, without its speed, gone."""
        if self.clock is None:
            return part("", sep=" ")
        when = datetime.fromtimestamp(self.clock, UTC)
        speed = Text()
        if self.speed is not None and self.speed != 1:
            speed = Text(f" x{self.speed:g}", style="yellow")
        long, short = when.strftime("%Y-%m-%d %H:%M:%S"), when.strftime("%H:%M:%S")
        forms = (Text(long).append_text(speed), Text(short).append_text(speed), short, "")
        return part(*forms, sep=" ")

    def _sync_state(self) -> Part:
        """Syncing, failing, STALE with its age (and why), or synced: shorter forms
        without the time of day, then without why; STALE and its age always stay."""
        if self.synced_at is None:
            if self.sync_error:
                failing = "sync failing"
                forms = _shorter(f"{failing}: {self.sync_error}", f"{failing}: ", failing)
                return part(*forms, style="bold red")
            return part("syncing…", style="yellow")
        stamp = datetime.fromtimestamp(self.synced_at, UTC).strftime("%H:%M:%S")
        age = _age(max(self.now - self.synced_at, 0.0))
        if self.sync_error or max(self.now - self.synced_at, 0.0) > self.stale_after:
            why = f" ({self.sync_error})" if self.sync_error else ""
            return part(
                f"STALE: last sync {stamp}, {age} ago{why}",
                *_shorter(f"STALE: last sync {age} ago{why}", "STALE: last sync "),
                f"STALE {age} ago",
                style="bold red",
            )
        return part(f"synced {stamp} ({age} ago)", f"synced {age} ago", "", style="dim")


SHRINK = (
    *("product", "clock", "sync", "backend", "clock", "clock"),  # time of day, [emulated]
    *("vms", "hosts", "maintenance", "data_center", "sync"),  # labels, long forms
    *("maintenance", "data_center", "sync", "data_center", "sync", "tasks", "vms", "hosts"),
)
"""What shrinks first, one form a step: never READ-ONLY, the figures' age or ALERTS."""
WARNINGS = ("read_only", "sync", "figures", "alerts", "tasks")
"""What comes first when even the shortest line is too wide for the room."""


def _shorter(
    said: str, keep: str = "", last: str | None = None, *, room: int = 24
) -> tuple[str, ...]:
    """`said`, then cut to `room` characters after `keep` with "…", then `last` (if
    given): a name or a reason that can be long."""
    room += len(keep)
    cut = said if len(said) <= room else said[: room - 1] + "…"
    forms = (said, cut) if cut != said else (said,)
    return forms if last is None else (*forms, last)


_age = age_words
