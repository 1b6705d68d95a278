"""The emulator's cores: topology from the host model, pinned VMs holding their CPUs,
pins kept in the fleet file and across a migration."""

from __future__ import annotations

from pathlib import Path

import pytest

import emulator
from emulator.cores import cpu_layout


def small_fleet() -> emulator.Fleet:
    fleet = emulator.Fleet(seed=3)
    fleet.add_site("s")
    fleet.add_room("r", "s")
    fleet.add_rack("k", "r", power_budget_kw=10.0, uplink_gbps=100.0)
    fleet.add_datastore("san", "shared", 10_000.0, room="r")
    fleet.add_network("net")
    for name in ("h1", "h2"):
        fleet.add_host(name, "k", cores=16, threads=32, reserved_cpus=2)
    for name in ("a", "b"):
        fleet.define_vm(name, "h1", vcpus=4, memory_mib=1024, datastore="san", network="net")
        fleet.start_vm(name)
    return fleet


def test_topology_two_nodes_of_eight_cores_with_siblings_and_named_reserved_cpus() -> None:
    fleet = small_fleet()
    layout = cpu_layout(fleet.hosts["h1"])
    assert [n["id"] for n in layout["nodes"]] == [0, 1]
    assert layout["nodes"][0]["cores"][0] == [0, 16]
    assert layout["nodes"][1]["cores"][0] == [8, 24]
    assert layout["reserved"] == [0, 16]  # core 0, both threads: 2 reserved CPUs


def test_a_dedicated_cpu_is_held_against_other_vms_and_reserved_cpus_are_refused() -> None:
    fleet = small_fleet()
    fleet.pin_vcpus("a", [[1], [2], [3], [4]], [0, 16])
    with pytest.raises(emulator.InvalidOperation, match="CPU 2 of host h1 is dedicated to VM a"):
        fleet.pin_vcpus("b", [[2], [5], [6], [7]], [0])
    with pytest.raises(emulator.InvalidOperation, match="CPU 2 of host h1 is dedicated to VM a"):
        fleet.pin_vcpus("b", [[2, 5, 6]] * 4, [0])  # floating over it is refused as well
    with pytest.raises(emulator.InvalidOperation, match="reserved"):
        fleet.pin_vcpus("b", [[0], [5], [6], [7]], [0])
    fleet.pin_vcpus("b", [[5, 6, 7, 8]] * 4, [0])  # shared: floating over shared CPUs
    per_vcpu, emulator_cpus = fleet.vcpu_affinity("a")
    assert per_vcpu[:4] == [[1], [2], [3], [4]] and emulator_cpus == [0, 16]


def test_pins_survive_the_fleet_file_and_go_along_with_a_migration(tmp_path: Path) -> None:
    fleet = small_fleet()
    fleet.pin_vcpus("a", [[1], [2], [3], [4]], [0, 16])
    job = fleet.migrate("a", "h2", live=True)
    while fleet.migrations:
        fleet.step(1.0)
    assert job.state == "completed"
    assert fleet.vcpu_affinity("a")[0][:4] == [[1], [2], [3], [4]]  # as <cputune> goes along
    path = tmp_path / "fleet.db"
    file = emulator.FleetFile(path)
    file.save(fleet, full=True)
    again = emulator.FleetFile(path).load()
    assert again.vcpu_affinity("a")[0][:4] == [[1], [2], [3], [4]]


def test_a_migration_carrying_pins_arrives_with_them_and_keeps_its_own_until_then() -> None:
    fleet = small_fleet()
    fleet.pin_vcpus("a", [[1], [2], [3], [4]], [0, 16])
    fleet.define_vm("c", "h2", vcpus=2, memory_mib=1024, datastore="san", network="net")
    fleet.start_vm("c")
    fleet.pin_vcpus("c", [[1], [2]], [0])  # on h2 the CPUs a holds on h1 are taken
    with pytest.raises(emulator.InvalidOperation, match="CPU 1 of host h2 is dedicated to VM c"):
        fleet.migrate("a", "h2", pins=([[1], [9], [10], [11]], [0], [1]))
    assert not fleet.migrations  # refused before it started
    job = fleet.migrate("a", "h2", pins=([[9], [10], [11], [12]], [0, 16], [1]))
    fleet.step(0.1)
    assert fleet.vcpu_affinity("a")[0][:4] == [[1], [2], [3], [4]]  # still on h1's pins
    while fleet.migrations:
        fleet.step(1.0)
    assert job.state == "completed" and fleet.vms["a"].host == "h2"
    assert fleet.vcpu_affinity("a")[0][:4] == [[9], [10], [11], [12]]
    assert fleet.memory_binding("a") == [1]


def test_a_failed_migration_leaves_the_pins_it_carried_behind() -> None:
    fleet = small_fleet()
    fleet.pin_vcpus("a", [[1], [2], [3], [4]], [0, 16])
    fleet.fail_next["a"] = "injected"
    job = fleet.migrate("a", "h2", pins=([[9], [10], [11], [12]], [0, 16], [1]))
    while fleet.migrations:
        fleet.step(1.0)
    assert job.state == "failed" and fleet.vms["a"].host == "h1"
    assert fleet.vcpu_affinity("a")[0][:4] == [[1], [2], [3], [4]]
    assert fleet.memory_binding("a") == []
