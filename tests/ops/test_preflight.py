"""The pre-flight check of a migration: each check's verdict and reason, and the refusal
(unless forced) before every migration; migration options the emulator models."""

from __future__ import annotations

import pytest

import emulator
from tests.conftest import host_with_room_for, make_busy, running_vm_on_shared_storage
from vdctui.drivers.emulated import EmulatedDriver
from vdctui.model import (
    Host,
    HostNetworks,
    HostState,
    MigrationKind,
    MigrationOptions,
    MigrationOutcome,
    Nic,
    Vm,
    VmState,
)
from vdctui.ops import Console, Refused
from vdctui.ops import preflight as pf
from vdctui.ops import snapshots as snaps

V = pf.Verdict


def host(name: str, model: str = "m1", datastores: tuple[str, ...] = ("san",)) -> Host:
    return Host(name, HostState.UP, "r", "room", "s", model, 64, 32, 2000, 65536, 25.0,
                datastores=datastores)  # fmt: skip


def vm(**kw: object) -> Vm:
    base = dict(name="web", state=VmState.RUNNING, host="a", vcpus=2, memory_mib=4096,
                max_vcpus=4, max_memory_mib=8192, disk_gib=40.0, datastore="san")  # fmt: skip
    return Vm(**{**base, **kw})  # type: ignore[arg-type]


def test_the_pure_checks_say_pass_warn_or_fail_with_why() -> None:
    assert pf.cpu_check(host("a"), host("b")).verdict is V.PASS
    assert pf.cpu_check(host("a"), host("b", model="m2")).verdict is V.WARN
    assert pf.cpu_check(None, host("b")).verdict is V.WARN
    none = MigrationOptions()
    full = MigrationOptions(copy_storage="full")
    assert pf.storage_check(vm(), host("b"), none).verdict is V.PASS
    far = host("b", datastores=("local-b",))
    failed = pf.storage_check(vm(), far, none)
    assert failed.verdict is V.FAIL and "does not reach datastore san" in failed.reason
    assert pf.storage_check(vm(), far, full).verdict is V.PASS
    assert pf.storage_check(vm(), host("b"), full).verdict is V.WARN  # not needed
    assert pf.storage_check(vm(datastore=""), far, none).verdict is V.WARN  # not known
    nets = HostNetworks(frozenset({"prod"}), frozenset({"br0"}))
    on_prod = vm(network="prod")
    assert pf.network_check(on_prod, "b", nets).verdict is V.PASS
    missing = pf.network_check(vm(network="dmz"), "b", nets)
    assert missing.verdict is V.FAIL and missing.reason == "network dmz not on b"
    bridged = vm(nics=(Nic("vnet0", "bridge", "br9"),))
    assert pf.network_check(bridged, "b", nets).reason == "network or bridge br9 not on b"
    in_network = vm(nics=(Nic("vnet0", "bridge", "prod"),))  # a bridged libvirt network
    assert pf.network_check(in_network, "b", nets).verdict is V.PASS
    assert pf.storage_check(vm(datastore=""), far, none, disks=0).verdict is V.PASS
    assert pf.network_check(bridged, "b", HostNetworks(frozenset())).verdict is V.WARN
    assert pf.network_check(on_prod, "b", None).verdict is V.WARN
    assert pf.snapshots_check(0, MigrationKind.LIVE).verdict is V.PASS
    assert "libvirt refuses" in pf.snapshots_check(2, MigrationKind.LIVE).reason
    assert pf.snapshots_check(None, MigrationKind.LIVE).verdict is V.WARN
    passthrough = "<domain><devices><hostdev type='pci'/></devices></domain>"
    assert pf.devices_check(passthrough).verdict is V.FAIL
    cdrom = "<domain><devices><disk device='cdrom'><source file='/iso/x.iso'/></disk></devices></domain>"  # noqa: E501
    assert "/iso/x.iso" in pf.devices_check(cdrom).reason
    assert pf.devices_check("<domain/>").verdict is V.PASS
    assert pf.devices_check("not xml").verdict is V.WARN


def test_options_out_of_range_are_refused() -> None:
    for bad in (
        MigrationOptions(copy_storage="some"),
        MigrationOptions(bandwidth_mib_s=0),
        MigrationOptions(max_downtime_ms=10**9),
    ):
        with pytest.raises(Refused):
            pf.check_options(bad)
    assert set(pf.OPTION_HELP) == set(MigrationOptions.__dataclass_fields__)


async def test_a_missing_network_fails_and_refuses_unless_forced(
    console: Console, fleet: emulator.Fleet
) -> None:
    name = running_vm_on_shared_storage(fleet)
    target = host_with_room_for(fleet, name)
    fleet.unplug_network(target, fleet.vms[name].network)
    report = await pf.check(console, name, target)
    assert report.verdict is V.FAIL
    [failed] = report.failed
    assert failed.name == "network" and fleet.vms[name].network in failed.reason
    with pytest.raises(Refused, match="pre-flight check .* failed .*network"):
        await console.migrate_vm(name, target)
    assert console.audit(limit=1)[0].result == "refused"
    assert not console.tasks(limit=5)  # refused before any task
    fleet.plug_network(target, fleet.vms[name].network)
    again = await pf.check(console, name, target)
    assert again.verdict is not V.FAIL
    assert {c.name: c.verdict for c in again.checks}["network"] is V.PASS
    run = await console.migrate_vm(name, target)
    assert (await run.wait()).outcome is MigrationOutcome.SUCCEEDED


async def test_forcing_a_failed_check_lets_the_hypervisor_say_no(
    console: Console, fleet: emulator.Fleet
) -> None:
    name = running_vm_on_shared_storage(fleet)
    target = host_with_room_for(fleet, name)
    await snaps.create_snapshot(console, name, "s1")
    report = await pf.check(console, name, target)
    assert [c.name for c in report.failed] == ["snapshots"]
    with pytest.raises(Refused, match="snapshots: it has 1 snapshot"):
        await console.migrate_vm(name, target)
    with pytest.raises(Refused, match="cannot migrate domain with 1 snapshots"):
        await console.migrate_vm(name, target, force=True)


async def test_postcopy_and_a_bandwidth_cap_in_the_emulator(
    console: Console, fleet: emulator.Fleet, driver: EmulatedDriver
) -> None:
    busy = running_vm_on_shared_storage(fleet)
    make_busy(fleet, busy)
    target = host_with_room_for(fleet, busy)
    run = await console.migrate_vm(busy, target, options=MigrationOptions(postcopy=True))
    result = await run.wait()
    assert result.outcome is MigrationOutcome.SUCCEEDED and result.rounds == 1
    assert result.downtime_ms <= 50
    other = running_vm_on_shared_storage(fleet, skip=(busy,))
    to = host_with_room_for(fleet, other)
    capped = await console.migrate_vm(other, to, options=MigrationOptions(bandwidth_mib_s=64))
    await capped.wait()
    job = fleet.finished_migrations[-1]
    assert job.vm == other and job.bandwidth <= 64 * (1 << 20) + 1
    for unsupported, word in (
        (MigrationOptions(compressed=True), "compressed"),
        (MigrationOptions(tunnelled=True), "tunnelled"),
        (MigrationOptions(copy_storage="incremental"), "Incremental"),
    ):
        with pytest.raises(Refused, match=word):
            await console.migrate_vm(other, host_with_room_for(fleet, other), options=unsupported)


async def test_unsupported_options_are_refused_before_any_task(
    console: Console, fleet: emulator.Fleet
) -> None:
    """A refused change has no side effect: no task, no migration record, one audit."""
    vm = running_vm_on_shared_storage(fleet)
    target = host_with_room_for(fleet, vm)
    tasks_before, moves_before = console.tasks(limit=100), console.migrations(limit=100)
    for unsupported in (MigrationOptions(compressed=True), MigrationOptions(tunnelled=True)):
        with pytest.raises(Refused, match="not supported") as refused:
            await console.migrate_vm(vm, target, options=unsupported, force=True)
        assert str(refused.value).count(". ") == 0  # one sentence
        assert console.audit(limit=1)[0].result == "refused"
    assert console.tasks(limit=100) == tasks_before
    assert console.migrations(limit=100) == moves_before
    report = await pf.check(console, vm, target, options=MigrationOptions(compressed=True))
    assert [c.verdict for c in report.checks if c.name == "options"] == [pf.Verdict.FAIL]
