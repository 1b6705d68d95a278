"""`emulate --for 7d` saves its progress as it goes: a kill loses a bounded slice, not
the whole run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import emulator
from vdctui.drivers import emulated
from vdctui.drivers.emulated import EmulatedDriver


async def test_advancing_as_fast_as_possible_saves_as_it_goes(
    tmp_path: Path, monkeypatch: Any
) -> None:
    path = tmp_path / "fleet.db"
    fleet = emulator.build_demo(seed=5, hosts=4, vms=12)
    file = emulator.FleetFile(path)
    file.save(fleet, full=True)
    driver = EmulatedDriver(fleet, fleet_file=file, speed=None)
    saves: list[float] = []
    real_save = driver.save

    def save() -> None:
        real_save()
        saves.append(fleet.now)

    monkeypatch.setattr(driver, "save", save)
    monkeypatch.setattr(emulated, "SAVE_EVERY_S", 0.0)  # every chunk, so the test is quick
    await driver.advance(3600.0)
    # killed here (no close, no last save): what a new process finds is recent
    assert len(saves) >= 3600.0 / emulated.ADVANCE_CHUNK_S - 1
    reopened = emulator.FleetFile(path).load()
    assert reopened.now >= 3600.0 - emulated.ADVANCE_CHUNK_S
    assert reopened.now == saves[-1]
