"""Shared fixtures: a small emulated fleet, its driver, and a console over both."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest

import emulator
from vdctui.drivers.emulated import EmulatedDriver
from vdctui.model import Role
from vdctui.ops import Console, Identity
from vdctui.store import Store

# The suite never writes to the machine's system log; tests of the copy bind their own socket.
os.environ["VDCTUI_AUDIT_SYSLOG"] = "off"

SMALL = {"seed": 7, "hosts": 8, "vms": 40}


@pytest.fixture
def fleet() -> emulator.Fleet:
    return emulator.build_demo(**SMALL)


@pytest.fixture
def driver(fleet: emulator.Fleet) -> EmulatedDriver:
    return EmulatedDriver(fleet, speed=None, tick=0.5)


@pytest.fixture
async def console(driver: EmulatedDriver) -> AsyncIterator[Console]:
    console = Console(Store(":memory:"), driver, Identity("alice", Role.ADMIN))
    await console.sync()
    yield console
    await console.close()


def running_vm_on_shared_storage(fleet: emulator.Fleet, *, skip: tuple[str, ...] = ()) -> str:
    """A running VM whose disk is on a shared datastore, by name order."""
    for name in sorted(fleet.vms):
        vm = fleet.vms[name]
        if (
            vm.state == "running"
            and name not in skip
            and fleet.datastores[vm.datastore].kind == "shared"
        ):
            return name
    raise AssertionError("the demo fleet has no running VM on shared storage")


def host_with_room_for(
    fleet: emulator.Fleet, vm_name: str, *, besides: tuple[str, ...] = ()
) -> str:
    """Another up host that reaches the VM's datastore and has memory for it."""
    vm = fleet.vms[vm_name]
    for name in sorted(fleet.hosts):
        if (
            name != vm.host
            and name not in besides
            and fleet.hosts[name].state == "up"
            and vm.datastore in fleet.host_datastores(name)
            and fleet.memory_free_mib(name) >= vm.memory_mib
        ):
            return name
    raise AssertionError(f"no host has room for {vm_name}")


def make_busy(fleet: emulator.Fleet, vm_name: str) -> None:
    """Make a VM dirty memory far faster than any link can send it."""
    vm = fleet.vms[vm_name]
    vm.dirty_rate = 100e9
    vm.dirty_scales_with_cpu = False


def keep_running_vms_busy(fleet: emulator.Fleet, util: float = 0.75) -> None:
    """Every running VM busy at `util` of its vCPUs from now on, whatever the time of day
    (the demo's workloads follow the fleet clock's day, which is wall-clock time)."""
    for vm in fleet.vms.values():
        if vm.state == "running":
            vm.workload = f"constant:{util}"
            vm.wl = emulator.parse_workload(vm.workload)
            vm.gen += 1  # its pending workload updates are dropped
            fleet.set_vm_util(vm, util)
