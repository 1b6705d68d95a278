from __future__ import annotations

import pytest

from emulator import FleetError, InvalidOperation, NoSuchHost, NoSuchVm, parse_workload

from .conftest import add_vm


def test_define_start_shutdown_takes_virtual_time(fleet):
    add_vm(fleet, start=False)
    v = fleet.vms["vm1"]
    assert v.state == "shut off" and len(v.uuid) == 36
    fleet.start_vm("vm1")
    assert v.state == "running" and v.started_at == 0.0 and v.cpu_util == 0.5
    fleet.shutdown_vm("vm1")
    assert v.state == "in shutdown"
    fleet.step(4.0)
    assert v.state == "in shutdown"
    fleet.step(27.0)
    assert v.state == "shut off" and v.cpu_util == 0.0
    states = [e.message for e in fleet.events_since(0) if e.kind == "vm.state"]
    assert states[-1].startswith("VM vm1 is now shut off")


def test_refusals(fleet):
    with pytest.raises(NoSuchVm, match="no VM named 'ghost'"):
        fleet.start_vm("ghost")
    add_vm(fleet)
    with pytest.raises(InvalidOperation, match="must be shut off"):
        fleet.undefine_vm("vm1")
    with pytest.raises(InvalidOperation, match="already defined"):
        add_vm(fleet)
    with pytest.raises(InvalidOperation, match="cannot be started"):
        fleet.start_vm("vm1")
    with pytest.raises(InvalidOperation, match="1 to 8 vCPUs"):
        fleet.set_vcpus("vm1", 9)
    with pytest.raises(InvalidOperation, match="MiB of memory"):
        fleet.set_memory("vm1", 20000)
    with pytest.raises(NoSuchHost):
        fleet.define_vm("x", "nohost", vcpus=1, memory_mib=1)
    with pytest.raises(InvalidOperation, match="does not reach"):
        fleet.define_vm("x", "ra1", vcpus=1, memory_mib=1, datastore="local-ra2")
    with pytest.raises(InvalidOperation, match="Workload"):
        fleet.define_vm("x", "ra1", vcpus=1, memory_mib=1, workload="sine:0.3")
    for err in (NoSuchVm, NoSuchHost, InvalidOperation):
        assert issubclass(err, FleetError)


def test_resize_live_within_max_and_host_capacity(fleet):
    add_vm(fleet, "a", memory_gib=16)
    fleet.define_vm("b", "ra1", vcpus=2, memory_mib=16384, max_vcpus=4, max_memory_mib=60 * 1024)
    fleet.start_vm("b")
    fleet.set_vcpus("a", 4)
    fleet.set_memory("a", 8192)
    assert fleet.vms["a"].vcpus == 4 and fleet.vms["a"].memory_mib == 8192
    free = fleet.memory_free_mib("ra1")  # 64 GiB - 4 reserved - 8 - 16 = 36 GiB
    assert free == 36 * 1024
    with pytest.raises(InvalidOperation, match="has only"):
        fleet.set_memory("b", 16384 + free + 1)
    fleet.set_memory("b", 16384 + free)
    assert fleet.memory_free_mib("ra1") == 0


def test_start_checks_free_memory(fleet):
    add_vm(fleet, "a", memory_gib=40)
    add_vm(fleet, "b", memory_gib=16, start=False)
    assert fleet.memory_free_mib("ra1") == 20 * 1024
    fleet.start_vm("b")
    add_vm(fleet, "c", memory_gib=8, start=False)
    with pytest.raises(InvalidOperation, match="not enough to start c"):
        fleet.start_vm("c")
    # a shut-off VM holds no memory
    fleet.destroy_vm("b")
    fleet.start_vm("c")


def test_suspend_resume_reboot_destroy_undefine(fleet):
    add_vm(fleet)
    fleet.suspend_vm("vm1")
    assert fleet.vms["vm1"].state == "paused" and fleet.vms["vm1"].cpu_util == 0.0
    with pytest.raises(InvalidOperation):
        fleet.suspend_vm("vm1")
    fleet.resume_vm("vm1")
    assert fleet.vms["vm1"].state == "running"
    fleet.step(100)
    fleet.reboot_vm("vm1")
    assert fleet.vms["vm1"].started_at == 100.0
    fleet.destroy_vm("vm1")
    assert fleet.vms["vm1"].state == "shut off"
    fleet.undefine_vm("vm1")
    assert "vm1" not in fleet.vms and fleet.datastores["san"].used_gib == 0


def test_workload_specs_and_traces(fleet):
    assert parse_workload("walk:0.3").kind == "walk"
    with pytest.raises(InvalidOperation):
        parse_workload("constant:1.5")
    with pytest.raises(InvalidOperation, match="no trace"):
        add_vm(fleet, "t", workload="trace:missing")
    fleet.add_trace("steps", [0.1, 0.9], 60.0)
    add_vm(fleet, "t", workload="trace:steps")
    add_vm(fleet, "w", workload="walk:0.4")
    seen_t, seen_w = set(), set()
    for _ in range(300):
        fleet.step(1.0)
        seen_t.add(fleet.vms["t"].cpu_util)
        seen_w.add(fleet.vms["w"].cpu_util)
        assert 0.0 <= fleet.vms["w"].cpu_util <= 1.0
    assert seen_t == {0.1, 0.9}
    assert len(seen_w) > 5
    with pytest.raises(InvalidOperation):
        fleet.add_trace("bad", [1.2], 10)


def test_host_stats_cpu_from_vm_demand(fleet):
    add_vm(fleet, "a", vcpus=4, workload="constant:0.5")
    stats = fleet.host_stats("ra1")
    # 4 vCPUs × 0.5 of 32 threads
    assert stats.cpu_util == pytest.approx(2 / 32)
    assert stats.memory_used_mib == 4096 and stats.running == 1
    assert stats.power_watts == pytest.approx(100 + 50 * (2 / 32) * 10)
    add_vm(fleet, "hog", vcpus=8, workload="constant:1.0")
    for i in range(4):
        add_vm(fleet, f"h{i}", vcpus=8, workload="constant:1.0", memory_gib=1)
    assert fleet.host_stats("ra1").cpu_util == 1.0
    assert fleet.host_stats("ra1").power_watts == 450
