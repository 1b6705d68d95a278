"""The console app over `backend.fixed_console`: a seeded demo fleet whose clock moves
only when asked. For Pilot tests, snapshot tests, screenshots and UI benchmarks."""

from __future__ import annotations

from pathlib import Path

from vdctui.backend import fixed_console
from vdctui.ui.app import Launch, VdcApp


def fixed_app(db: Path, **options: object) -> VdcApp:
    console, clock = fixed_console(db, **options)  # type: ignore[arg-type]
    # the wall clock is the fleet's too, so the header's "synced ... ago" holds still; and
    # the app syncs when asked (at start, after an action), not every few wall seconds
    return VdcApp(Launch(console=console, clock=clock, wall_clock=clock.now, sync_every_s=None))
