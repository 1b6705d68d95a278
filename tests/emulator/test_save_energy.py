"""A save made after one change leaves the hosts' energy counters out (writing 10,000 of
them was most of a change's time at 10,000 hosts); a load counts the time since they
were written at each host's draw, and the fleet's total stays exact."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

import emulator
from emulator import FleetFile, open_fleet
from vdctui.drivers.emulated import EmulatedDriver

from .conftest import CURVE, add_vm, small_fleet


def energy_written_at(path: Path) -> float:
    conn = sqlite3.connect(path)
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = 'energy_at'").fetchone()
    finally:
        conn.close()
    return float(json.loads(row[0]))


def reload(path: Path) -> emulator.Fleet:
    file = FleetFile(path, read_only=True)
    try:
        return file.load()
    finally:
        file.close()


def test_a_save_without_host_energy_keeps_the_last_counters_and_a_load_counts_since(
    tmp_path: Path,
) -> None:
    path = tmp_path / "fleet.db"
    f = open_fleet(path, create=small_fleet)
    add_vm(f, "a", vcpus=8, workload="constant:1.0")  # ra1 draws 195 W, the others idle
    f.step(100)
    f.save()  # a whole save: the counters at t=100
    f.step(50)
    add_vm(f, "b", host="rb1", start=False)  # a change, saved without the counters
    assert f.file.save(f, host_energy=False) == 1  # the one VM row
    assert energy_written_at(path) == 100.0
    total, ra1, rb2 = f.energy_j, f.hosts["ra1"].energy_at(f.now), f.hosts["rb2"].energy_at(f.now)
    f.file.close()

    g = FleetFile(path).load()
    assert g.now == 150.0 and "b" in g.vms
    assert g.energy_j == pytest.approx(total)
    # the 50 s since the counters were written, counted at each host's draw
    assert g.hosts["ra1"].energy_at(g.now) == pytest.approx(ra1)
    assert g.hosts["rb2"].energy_at(g.now) == pytest.approx(rb2) == pytest.approx(CURVE[0] * 150)
    g.file.close()


def test_a_whole_save_writes_the_counters(tmp_path: Path) -> None:
    path = tmp_path / "fleet.db"
    f = open_fleet(path, create=small_fleet)
    f.step(30)
    f.save(full=False)
    assert energy_written_at(path) == 30.0
    f.step(30)
    f.file.save(f, full=True, host_energy=False)  # a full save writes everything
    assert energy_written_at(path) == 60.0
    f.file.close()


async def test_the_drivers_changes_leave_the_counters_to_its_whole_saves(tmp_path: Path) -> None:
    path = tmp_path / "fleet.db"
    fleet = emulator.build_demo(seed=5, hosts=4, vms=12)
    file = FleetFile(path)
    file.save(fleet, full=True)
    driver = EmulatedDriver(fleet, fleet_file=file, speed=None)
    await driver.advance(60.0)
    written = energy_written_at(path)
    vm = next(v for v in fleet.vms.values() if v.state == "running")
    await driver.suspend(vm.name)
    assert reload(path).vms[vm.name].state == "paused"  # saved
    assert energy_written_at(path) == written  # without the counters
    await driver.close()  # a whole save
    assert energy_written_at(path) == fleet.now
    assert reload(path).energy_j == pytest.approx(fleet.energy_j)
