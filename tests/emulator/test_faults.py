from __future__ import annotations

import pytest

from emulator import HostUnreachable, InvalidOperation

from .conftest import add_vm


def test_crash_host(fleet):
    add_vm(fleet, "a")
    add_vm(fleet, "off", start=False)
    add_vm(fleet, "b", host="ra2")
    m = fleet.migrate("b", "ra1")
    fleet.step(1)
    fleet.crash_host("ra1")
    assert fleet.hosts["ra1"].state == "crashed"
    assert fleet.vms["a"].state == "crashed" and fleet.vms["a"].host == "ra1"
    assert fleet.vms["off"].state == "shut off"
    assert m.state == "failed" and "crashed" in m.reason
    assert fleet.vms["b"].host == "ra2" and fleet.vms["b"].state == "running"
    assert fleet.host_stats("ra1").power_watts == 0
    assert fleet.summary()["host_failures"] == 1
    with pytest.raises(HostUnreachable, match="crashed"):
        fleet.start_vm("a")
    # recovery: cold-move a crashed VM on shared storage off the dead host
    mv = fleet.migrate("a", "rb1", live=False)
    assert mv.state == "completed" and fleet.vms["a"].state == "shut off"
    fleet.power_on_host("ra1")
    assert fleet.vms["off"].state == "shut off"
    fleet.start_vm("off")


def test_source_crash_fails_migration_and_crashes_vm(fleet):
    add_vm(fleet, "a", memory_gib=8)
    m = fleet.migrate("a", "rb1")
    fleet.step(1)
    fleet.crash_host("ra1")
    assert m.state == "failed" and fleet.vms["a"].state == "crashed"
    assert fleet.vms["a"].host == "ra1"


def test_partition(fleet):
    add_vm(fleet, "a")
    add_vm(fleet, "b", host="ra2", memory_gib=8)
    m = fleet.migrate("b", "ra1")
    fleet.partition_host("ra1")
    assert m.state == "failed"
    assert fleet.vms["a"].state == "running"  # keeps running its VMs
    for call in (fleet.shutdown_vm, fleet.destroy_vm, fleet.suspend_vm, fleet.reboot_vm):
        with pytest.raises(HostUnreachable, match="partition"):
            call("a")
    with pytest.raises(HostUnreachable):
        fleet.check_reachable("ra1")
    with pytest.raises(HostUnreachable):
        fleet.migrate("a", "ra2")
    assert fleet.host_stats("ra1").power_watts > 0
    fleet.partition_host("ra1", False)
    fleet.shutdown_vm("a")


def test_power_off_and_on(fleet):
    add_vm(fleet, "a")
    fleet.power_off_host("ra1")
    assert fleet.hosts["ra1"].state == "off" and fleet.vms["a"].state == "shut off"
    with pytest.raises(HostUnreachable, match="powered off"):
        fleet.start_vm("a")
    with pytest.raises(InvalidOperation):
        fleet.power_off_host("ra1")
    fleet.power_on_host("ra1")
    fleet.start_vm("a")
    with pytest.raises(InvalidOperation):
        fleet.power_on_host("ra1")
    kinds = {e.kind for e in fleet.events_since(0)}
    assert {"host.state", "vm.state"} <= kinds


def test_events_since_and_bound(fleet):
    add_vm(fleet, "a")
    last = fleet.last_event_seq
    fleet.suspend_vm("a")
    new = fleet.events_since(last)
    assert [e.seq for e in new] == [last + 1] and new[0].vm == "a"
    for _ in range(6000):
        fleet.resume_vm("a")
        fleet.suspend_vm("a")
    evs = fleet.events_since(0)
    assert len(evs) == 10_000 and evs[-1].seq == fleet.last_event_seq
    assert fleet.events_since(fleet.last_event_seq) == []
