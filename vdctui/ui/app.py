"""The operator console: a Textual app over one `Console` (vdctui.ops).

The app paints from the console's store at once, connects the fleet in a
worker, then syncs every few seconds in a worker that never overlaps itself.
Screens read through the console and act through it; errors become one-line
notifications, never a crash.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from typing import Any, Protocol

from textual import work
from textual.app import App
from textual.binding import Binding
from textual.command import Provider
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.widget import AwaitMount

from vdctui.escape import for_terminal
from vdctui.files import FILE_ERRORS
from vdctui.model import FleetEvent, Role
from vdctui.ops import Console, Failed, Refused, intrusion
from vdctui.ui.host_toasts import HostToasts
from vdctui.ui.keymap import load_keymap
from vdctui.ui.migration_toasts import MigrationToasts
from vdctui.ui.screens.base import FleetScreen
from vdctui.ui.screens.inventory import InventoryScreen
from vdctui.ui.widgets.header import FleetHeader

REFRESH_S = 2.0
STALE_S = 30.0  # a last good sync older than this (or 3 syncs' time) is stale
SPEEDS = (0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600)


class FleetClock(Protocol):
    """The emulated fleet's clock, as the launcher lends it (real hosts have none)."""

    speed: float | None

    def now(self) -> float: ...


Connect = Callable[[], Awaitable[FleetClock | None]]


@dataclass
class Launch:
    """What the app is given: a console over its store, and how to reach the fleet."""

    console: Console
    connect: Connect | None = None  # attaches the driver; None when already attached
    clock: FleetClock | None = None  # when already attached: the fleet's clock, if it has one
    # the fleet's clock once this console took the fleet over from another process
    clock_taken_over: Callable[[], FleetClock | None] | None = None
    data_center: str = ""
    keymap_path: Path | None = None
    wall_clock: Callable[[], float] = time.time  # when syncs end, for their age in the header
    sync_every_s: float | None = REFRESH_S  # None: only when asked (tests, pictures)
    explain: Callable[[BaseException], str] = str  # one sentence for an error of its files


def _screen(module: str, name: str) -> Callable[[], Screen[Any]]:
    """A screen made when first shown: its module is imported then, not before the
    console's first frame (the inventory)."""

    def make() -> Screen[Any]:
        screen: Screen[Any] = getattr(import_module(f"vdctui.ui.screens.{module}"), name)()
        return screen

    return make


def _palette() -> type[Provider]:
    """The command palette's provider, imported when the palette first opens."""
    from vdctui.ui.commands import CommandPaletteProvider

    return CommandPaletteProvider


def _import_the_rest() -> None:
    """After the first frame: the modules of the other screens and of the commands, so
    the first key that opens one does not wait for its import."""
    for module in ("vms", "records"):
        import_module(f"vdctui.ui.screens.{module}")
    import_module("vdctui.ui.commands")


# The six screens share one footer entry ("123456 Screens"), so the footer fits 100 columns.
SCREENS = Binding.Group("Screens", compact=True)


class VdcApp(App[None]):
    TITLE = "vdctui"
    CSS_PATH = "app.tcss"
    MODES = {
        "inventory": InventoryScreen,
        "vms": _screen("vms", "VmsScreen"),
        "pools": _screen("records", "PoolsScreen"),
        "tasks": _screen("records", "TasksScreen"),
        "migrations": _screen("records", "MigrationsScreen"),
        "audit": _screen("records", "AuditScreen"),
        "services": _screen("services", "ServicesScreen"),  # no number key: `:services`
        "security": _screen("security", "SecurityScreen"),  # `:security`
        "alerts": _screen("security", "AlertsScreen"),  # `:alerts`
        "snapshots": _screen("storage", "SnapshotSpaceScreen"),  # `:snapshots`
        "duplicates": _screen("storage", "DuplicatesScreen"),  # `:duplicates`
    }
    DEFAULT_MODE = "inventory"
    COMMANDS = App.COMMANDS | {_palette}
    BINDINGS = [
        Binding("1", "switch_mode('inventory')", "Inventory", id="screen.inventory", group=SCREENS),
        Binding("2", "switch_mode('vms')", "VMs", id="screen.vms", group=SCREENS),
        Binding("3", "switch_mode('pools')", "Pools", id="screen.pools", group=SCREENS),
        Binding("4", "switch_mode('tasks')", "Tasks", id="screen.tasks", group=SCREENS),
        Binding(
            "5", "switch_mode('migrations')", "Migrations", id="screen.migrations", group=SCREENS
        ),
        Binding("6", "switch_mode('audit')", "Audit", id="screen.audit", group=SCREENS),
        Binding("colon", "command_line", "Command", id="command-line"),
        Binding("question_mark", "help", "Help", id="help"),
        Binding("ctrl+a", "list_commands", "Commands", id="commands.list", show=False),
        Binding("plus", "speed(1)", "Faster", id="clock.faster", show=False),
        Binding("minus", "speed(-1)", "Slower", id="clock.slower", show=False),
        Binding("q", "quit", "Quit", id="quit"),
        Binding("escape", "back", "Back", id="back", show=False),
    ]

    def __init__(self, launch: Launch) -> None:
        super().__init__()
        self.ops = launch.console
        self._connect = launch.connect
        self.data_center = launch.data_center
        self.clock: FleetClock | None = launch.clock
        self._clock_taken_over = launch.clock_taken_over
        self._wall_clock = launch.wall_clock
        self._sync_every_s = launch.sync_every_s
        self._explain = launch.explain
        self.connected = launch.connect is None
        self._connect_started = False
        self.first_painted_at: float | None = None  # when a fleet screen was first drawn
        self._rest_imported = False
        self._syncing = False
        self._next_sync = 0.0
        self._quitting = False  # what runs here is being stopped: the console closes next
        self.synced_at: float | None = None  # when the last good sync ended (time.time())
        self.sync_error: str | None = None  # why the last sync failed, if it did
        self._sync_took = 0.0
        self._visited: list[str] = []  # the screens (modes) left, for Esc to go back
        self.host_toasts = HostToasts(self)
        self.migration_toasts = MigrationToasts(self)
        self.ops.subscribe(self._on_fleet_event)
        keymap = load_keymap(launch.keymap_path)
        if keymap:
            self.set_keymap(keymap)

    @property
    def read_only(self) -> bool:
        return self.ops.identity.role is Role.VIEWER

    # --- start, refresh, stop -------------------------------------------------

    def on_mount(self) -> None:
        if self.ops.identity.notes:  # e.g. read-only: the store is not this user's to write
            self.notify(self.ops.identity.notes, severity="warning", timeout=15)
        if self._connect is None:  # else the fleet loads once a screen is drawn (`painted`)
            self.sync_fleet()
            self.follow_events()
        if self._sync_every_s is not None:
            self.set_interval(self._sync_every_s, self.sync_fleet)
        self.set_interval(1.0, self._tick)

    def _tick(self) -> None:
        """The header's age of the last sync moves even when no sync ends."""
        screen = self.fleet_screen
        if screen is not None:
            screen.header.now = self._wall_clock()

    @property
    def fleet_screen(self) -> FleetScreen | None:
        """The screen of the fleet on view (under any dialog), if it is ready to be drawn."""
        screen = next((s for s in reversed(self.screen_stack) if isinstance(s, FleetScreen)), None)
        return screen if screen is not None and screen.ready else None

    def painted(self) -> None:
        """A fleet screen has been drawn from the store: now load the fleet (once). Loading
        it beside the first frame (imports, a thread reading the fleet file) would slow
        that frame down."""
        if self.first_painted_at is None:
            self.first_painted_at = time.time()
        if self._connect is not None and not self._connect_started:
            self._connect_started = True
            self.connect_fleet()
        if not self._rest_imported:  # the screens and commands a key may open next
            self._rest_imported = True
            self.call_after_refresh(_import_the_rest)

    @work(exclusive=True, group="connect")
    async def connect_fleet(self) -> None:
        assert self._connect is not None
        self.notify("Connecting to the fleet ...", timeout=3)
        try:
            self.clock = await self._connect()
        except Exception as exc:  # noqa: BLE001 - shown, and the console stays usable
            self.notify(
                f"Cannot reach the fleet: {self._explain(exc)}", severity="error", timeout=30
            )
            return
        self.connected = True
        self.sync_fleet()
        self.follow_events()

    @work(group="events")
    async def follow_events(self) -> None:
        """Real hosts tell their changes as they happen (the SSH driver's event channels):
        the console syncs and repaints at once instead of at its next poll."""
        if self.ops.backend == "ssh":
            await self.ops.follow_events(after_sync=self.refresh_screen)

    @work(group="sync")
    async def sync_fleet(self) -> None:
        """Reconcile with the fleet, then repaint; skipped while one is still running."""
        if not self.connected or self._syncing or time.monotonic() < self._next_sync:
            return
        self._syncing = True
        began = time.monotonic()
        try:
            await self.ops.sync()
        except (Refused, Failed) as exc:
            self.sync_error = str(exc)
            self.notify(str(exc), severity="warning")
        except Exception as exc:  # noqa: BLE001 - a failed sync must not close the console
            self.sync_error = self._explain(exc)
            self.notify(
                f"The sync with the fleet failed: {self.sync_error}", severity="error", timeout=15
            )
        else:
            # a console following the store shows the age of what another process synced
            self.synced_at = (
                self.ops.store_seen_at() if self.ops.follows_store else self._wall_clock()
            )
            self.sync_error = None
            if self.clock is None and self._clock_taken_over and not self.ops.follows_store:
                self.clock = self._clock_taken_over()  # it runs the fleet now
        finally:
            self._syncing = False
            self._sync_took = time.monotonic() - began
            # a big fleet takes a while to sync: leave the loop as much time again
            self._next_sync = time.monotonic() + self._sync_took
        self.refresh_screen()

    def refresh_screen(self) -> None:
        screen = self.fleet_screen
        if screen is None:
            return
        try:
            screen.refresh_data()
            self.update_header(screen.header)
        except FILE_ERRORS as exc:  # a damaged or vanished file: said, never a crash
            self.sync_error = self._explain(exc)
            self.notify(self.sync_error, severity="error", timeout=15)

    def update_header(self, header: FleetHeader) -> None:
        if not self.data_center:
            self.data_center = ", ".join(site.name for site in self.ops.topology().sites)
        header.data_center = self.data_center
        header.backend = self.ops.backend
        header.read_only = self.read_only
        header.counts = self.ops.counts()
        header.in_maintenance = len(self.ops.hosts_in_maintenance())
        header.open_alerts = len(intrusion.alerts(self.ops, state="open"))
        header.synced_at = self.synced_at
        header.figures = self.ops.figures_age()
        header.sync_error = self.sync_error
        header.stale_after = max(STALE_S, 3 * self._sync_took)
        header.now = self._wall_clock()
        if self.clock is not None:
            header.clock = self.clock.now()
            header.speed = self.clock.speed

    async def action_quit(self) -> None:
        """Leave; what this console runs (migrations, a balance, an HA restart, an
        evacuation) is named and stopped first, if you agree (vdctui.ui.quitting)."""
        from vdctui.ui import quitting

        if self._quitting:
            return
        question = quitting.question(self.ops)
        if question is None:
            await self._leave(True)
            return
        from vdctui.ui.dialogs import ConfirmDialog

        self.push_screen(ConfirmDialog(question), self._leave)

    async def _leave(self, yes: bool | None) -> None:
        if yes and not self._quitting:
            self._quitting = True
            self.run_worker(self._stop_and_close(), group="quit")

    async def _stop_and_close(self) -> None:
        from vdctui.ui import quitting

        await quitting.stop_what_runs(self)
        self.connected = False  # no sync starts, and none still running reads a closed db
        await quitting.interrupt_workers(self)
        await self.ops.close(abort_migrations=True)
        self.exit()

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Every notification as plain text, escaped line by line: messages carry names and
        errors from hosts and users, which must not be read as markup or drive the terminal."""
        shown = "\n".join(for_terminal(line) for line in str(message).split("\n"))
        super().notify(
            shown, title=for_terminal(title), severity=severity, timeout=timeout, markup=False
        )

    # --- acting through the console -------------------------------------------

    async def act(self, work: Awaitable[Any], done: str | None = None) -> Any:
        """Run one console call; a refusal or failure is a notification, never a crash."""
        try:
            result = await work
        except (Refused, Failed) as exc:
            self.notify(str(exc), severity="error", timeout=8)
            return None
        except FILE_ERRORS as exc:
            self.notify(self._explain(exc), severity="error", timeout=15)
            return None
        if done:
            self.notify(done)
        self.refresh_screen()
        return result

    def _on_fleet_event(self, event: FleetEvent) -> None:
        if event.kind.startswith("migration."):  # a task's moves: one notification
            self.migration_toasts.heard(event)
        elif event.kind == "drift.host-state":  # hosts going together: one notification
            self.host_toasts.heard(event)
        elif event.kind in ("events.dropped", "events.open"):
            self.notify(
                event.message,
                severity="warning" if event.kind.endswith("dropped") else "information",
            )

    # --- app-wide actions -----------------------------------------------------

    def action_command_line(self) -> None:
        from vdctui.ui.widgets.command_line import CommandLine

        self.screen.query_one(CommandLine).open()

    def action_help(self) -> None:
        """Help for the screen underneath: its keys, its filter, the `:` commands."""
        from vdctui.ui.help import HelpScreen, help_for

        if isinstance(self.screen, HelpScreen):
            self.screen.dismiss(None)
        else:
            self.push_screen(HelpScreen(help_for(self.screen)))

    def action_list_commands(self) -> None:
        """ctrl+a: every `:` command; the one chosen opens the command line."""
        from vdctui.ui.help import CommandsDialog

        self.push_screen(CommandsDialog(), self._start_command)

    def _start_command(self, name: str | None) -> None:
        from vdctui.ui.widgets.command_line import CommandLine

        if name:
            self.screen.query_one(CommandLine).open(f"{name} ")

    def switch_mode(self, mode: str) -> AwaitMount:
        if self.current_mode and mode != self.current_mode:
            self._visited = [m for m in self._visited if m != self.current_mode]
            self._visited.append(self.current_mode)
        return super().switch_mode(mode)

    async def action_back(self) -> None:
        """Esc (once the screen has no filter or marks to clear): the screen seen before."""
        while self._visited:
            mode = self._visited.pop()
            if mode != self.current_mode:
                await super().switch_mode(mode)
                return

    def action_speed(self, direction: int) -> None:
        if self.clock is None or self.clock.speed is None:
            self.notify("Only the emulated fleet has a clock to speed up.", severity="warning")
            return
        faster = [s for s in SPEEDS if s > self.clock.speed]
        slower = [s for s in SPEEDS if s < self.clock.speed]
        if direction > 0 and faster:
            self.clock.speed = faster[0]
        elif direction < 0 and slower:
            self.clock.speed = slower[-1]
        self.notify(f"The fleet runs at x{self.clock.speed:g}.")
        self.refresh_screen()
