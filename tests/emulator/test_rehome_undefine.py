"""A VM defined again on another host after its host was fenced (HA), then undefined there
before it ever started, is left with its fenced host's definition (never lost); once it ran
on its new host, undefining it removes it as usual."""

from __future__ import annotations

import emulator


def _rehomed(fleet: emulator.Fleet) -> tuple[str, str, str]:
    vm = next(n for n in sorted(fleet.vms) if fleet.vms[n].state == "running")
    old = fleet.vms[vm].host
    fleet.crash_host(old)
    new = next(
        h
        for h in sorted(fleet.hosts)
        if h != old and fleet.vms[vm].datastore in fleet.host_datastores(h)
    )
    v = fleet.vms[vm]
    fleet.define_vm(vm, new, vcpus=v.vcpus, memory_mib=v.memory_mib)
    assert fleet.vms[vm].host == new
    return vm, old, new


def test_undefining_an_ha_copy_before_it_starts_leaves_the_fenced_hosts_definition() -> None:
    fleet = emulator.build_demo(seed=7, hosts=8, vms=40)
    vm, old, new = _rehomed(fleet)
    fleet.undefine_vm(vm)
    assert fleet.vms[vm].host == old and vm in fleet.hosts[old].vm_names
    assert vm not in fleet.hosts[new].vm_names


def test_once_started_on_its_new_host_an_undefine_removes_the_vm() -> None:
    fleet = emulator.build_demo(seed=7, hosts=8, vms=40)
    vm, _old, new = _rehomed(fleet)
    fleet.start_vm(vm)
    fleet.destroy_vm(vm)
    fleet.undefine_vm(vm)
    assert vm not in fleet.vms and vm not in fleet.hosts[new].vm_names
