"""Snapshots in the emulator: a tree, revert, delete, and space that grows on the datastore."""

from __future__ import annotations

import pytest

from emulator import InvalidOperation, open_fleet

from .conftest import GIB, add_vm, small_fleet

MIB = 1 << 20


def test_a_snapshot_of_a_running_vm_holds_its_memory_and_grows_with_its_writes(fleet):
    add_vm(fleet, dirty=100 * MIB)  # 100 MiB/s of memory: 1 MiB/s to its disk
    san = fleet.datastores["san"]
    before = san.used_gib
    s = fleet.create_snapshot("vm1", "before-upgrade", description="pre 2.0")
    assert s.memory and s.vm_state == "running" and s.current and s.parent is None
    assert s.size_bytes == 4096 * MIB
    assert san.used_gib == pytest.approx(before + 4.0)
    fleet.step(100.0)
    assert s.size_bytes == pytest.approx(4096 * MIB + 100 * MIB)
    assert san.used_gib == pytest.approx(before + 4.0 + 100 / 1024)
    fleet.destroy_vm("vm1")
    fleet.step(100.0)  # a VM that does not run writes nothing
    assert s.size_bytes == pytest.approx(4096 * MIB + 100 * MIB)


def test_growth_stops_at_the_disk_and_moves_to_the_newest_snapshot(fleet):
    add_vm(fleet, dirty=100 * GIB)  # absurdly busy: 1 GiB/s to a 10 GiB disk
    first = fleet.create_snapshot("vm1", "a", disk_only=True)
    assert not first.memory and first.size_bytes == 0 and first.vm_state == "disk-snapshot"
    fleet.step(60.0)
    assert first.size_bytes == pytest.approx(10 * GIB)  # never more than the whole disk
    second = fleet.create_snapshot("vm1", "b", disk_only=True)
    assert second.parent == "a" and second.current and not first.current
    fleet.step(3.0)
    assert first.size_bytes == pytest.approx(10 * GIB)
    assert second.size_bytes == pytest.approx(3 * GIB)


def test_revert_brings_back_the_state_vcpus_and_memory(fleet):
    add_vm(fleet)
    fleet.create_snapshot("vm1", "running-2cpu")
    fleet.set_vcpus("vm1", 4)
    fleet.destroy_vm("vm1")
    fleet.revert_snapshot("vm1", "running-2cpu")
    v = fleet.vms["vm1"]
    assert v.state == "running" and v.vcpus == 2 and v.started_at == fleet.now
    fleet.shutdown_vm("vm1")
    fleet.step(60.0)
    fleet.create_snapshot("vm1", "off")
    fleet.start_vm("vm1")
    fleet.revert_snapshot("vm1", "off")
    assert v.state == "shut off"
    current = [s.snap for s in fleet.snapshots_of("vm1") if s.current]
    assert current == ["off"]


def test_delete_reparents_children_and_frees_space(fleet):
    add_vm(fleet)
    san = fleet.datastores["san"]
    before = san.used_gib
    for name in ("a", "b", "c"):
        fleet.create_snapshot("vm1", name)
    fleet.revert_snapshot("vm1", "a")
    fleet.create_snapshot("vm1", "d")  # a -> b -> c, a -> d
    fleet.delete_snapshot("vm1", "a")
    tree = {s.snap: s.parent for s in fleet.snapshots_of("vm1")}
    assert tree == {"b": None, "c": "b", "d": None}
    fleet.delete_snapshot("vm1", "d")  # the current one: nothing left to be current
    assert not any(s.current for s in fleet.snapshots_of("vm1"))
    for name in ("b", "c"):
        fleet.delete_snapshot("vm1", name)
    assert san.used_gib == pytest.approx(before)


def test_what_snapshots_block_and_bad_names(fleet):
    add_vm(fleet)
    fleet.create_snapshot("vm1", "s1")
    with pytest.raises(InvalidOperation, match="cannot migrate domain with 1 snapshots"):
        fleet.migrate("vm1", "ra2")
    fleet.destroy_vm("vm1")
    with pytest.raises(InvalidOperation, match="delete them before it is undefined"):
        fleet.undefine_vm("vm1")
    with pytest.raises(InvalidOperation, match="delete them before it is moved"):
        fleet.move_stopped_vm("vm1", "ra2")
    with pytest.raises(InvalidOperation, match="already has a snapshot named 's1'"):
        fleet.create_snapshot("vm1", "s1")
    for bad in ("", " x", "a/b", "a\nb"):
        with pytest.raises(InvalidOperation, match="cannot be"):
            fleet.create_snapshot("vm1", bad)
    with pytest.raises(InvalidOperation, match="no snapshot named 'nope'"):
        fleet.revert_snapshot("vm1", "nope")
    fleet.delete_snapshot("vm1", "s1")
    fleet.undefine_vm("vm1")


def test_snapshots_are_saved_and_loaded(tmp_path):
    path = tmp_path / "fleet.db"
    fleet = open_fleet(path, lambda: small_fleet())
    add_vm(fleet, dirty=100 * MIB)
    fleet.create_snapshot("vm1", "a", description="kept")
    fleet.create_snapshot("vm1", "b")
    fleet.step(10.0)
    used = fleet.datastores["san"].used_gib
    fleet.save()
    again = open_fleet(path)
    shown = {s.snap: (s.parent, s.current, s.description) for s in again.snapshots_of("vm1")}
    assert shown == {"a": (None, False, "kept"), "b": ("a", True, "")}
    assert again.datastores["san"].used_gib == pytest.approx(used)
    again.step(10.0)  # the loaded current snapshot keeps growing
    assert again.find_snapshot("vm1", "b").size_bytes == pytest.approx(4096 * MIB + 20 * MIB)
