"""Start the console on the embedded emulated data center."""

from __future__ import annotations

from pathlib import Path

from vdctui.backend import (
    DemoSize,
    EmulatedClock,
    attach_embedded,
    emulated_fleet,
    explain_for,
    open_store_console,
)
from vdctui.backend_ssh import ssh_console
from vdctui.ui.app import FleetClock, Launch, VdcApp


def console_app(
    db: Path, *, read_only: bool = False, speed: float = 1.0, size: DemoSize | None = None
) -> VdcApp:
    """The app over `db`: it paints from the store, then loads the fleet beside it. While
    another process holds the embedded fleet, the app follows the store (what that
    process syncs: its tasks and migrations with their progress, its audit), hands its
    changes to that process, and takes the fleet over when that process exits."""
    console, lock = open_store_console(  # kept once it has the fleet (now or on taking over)
        db, read_only=read_only, reads=True, shares=True, speed=speed, keeps="an open console"
    )

    async def connect() -> FleetClock | None:
        if lock is None:  # a viewer following the store another process keeps
            return None
        await attach_embedded(console, lock, db, speed=speed, size=size)
        return EmulatedClock(emulated_fleet(console))

    def taken_over() -> FleetClock | None:
        return EmulatedClock(emulated_fleet(console))

    launch = Launch(
        console=console, connect=connect, clock_taken_over=taken_over, explain=explain_for(db)
    )
    return VdcApp(launch)


def ssh_console_app(db: Path, inventory: Path, *, read_only: bool = False) -> VdcApp:
    """The app over the hosts an inventory file lists, reached over SSH."""
    console = ssh_console(db, inventory, read_only=read_only)
    return VdcApp(Launch(console=console, data_center=inventory.stem, explain=explain_for(db)))
