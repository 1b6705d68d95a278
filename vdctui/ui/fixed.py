"""A console app with nothing left to chance: a seeded demo fleet on a clock that
moves only when asked, and a store that keeps the fleet's time. For Pilot tests,
snapshot tests, screenshots and UI benchmarks."""

from __future__ import annotations

from pathlib import Path

import emulator
from vdctui.backend import EmulatedClock
from vdctui.drivers.emulated import EmulatedDriver
from vdctui.model import Role
from vdctui.ops import Console, Identity
from vdctui.store import Store
from vdctui.ui.app import Launch, VdcApp

EPOCH = 1_795_000_000.0  # 2026-11-18 08:26:40 UTC


def fixed_console(db: Path, *, seed: int = 0, hosts: int = 64, vms: int = 600,
                  role: Role = Role.ADMIN) -> Console:
    fleet = emulator.build_demo(seed=seed, hosts=hosts, vms=vms, epoch=EPOCH)
    driver = EmulatedDriver(fleet, speed=None, tick=0.5)
    store = Store(db, clock=lambda: fleet.now)
    return Console(store, driver, Identity("operator", role))


def fixed_app(db: Path, **options: object) -> VdcApp:
    console = fixed_console(db, **options)  # type: ignore[arg-type]
    assert isinstance(console.driver, EmulatedDriver)
    return VdcApp(Launch(console=console, clock=EmulatedClock(console.driver)))
