"""What the screens say is true: unknown is `—`, sizes read well, uptime moves."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from tests.ui.conftest import Opened, command, fleet_of
from vdctui.columns import HOST_COLUMNS, VM_COLUMNS
from vdctui.drivers.emulated import EmulatedDriver
from vdctui.model import (
    CpuContention,
    Datastore,
    DatastoreKind,
    Disk,
    Host,
    HostState,
    Rack,
    Vm,
    VmState,
)
from vdctui.ops.placement import Allocation
from vdctui.ui.screens.host_detail import bar_width, host_detail, rack_host_row
from vdctui.ui.screens.vm_detail import vm_facts


async def test_uptime_counts_from_a_start(opened: Opened) -> None:
    app, pilot, _ = opened
    name = next(n for n, v in sorted(fleet_of(app).vms.items()) if v.state == "shut off")
    await command(pilot, f"start {name}")
    driver = app.ops.driver
    assert isinstance(driver, EmulatedDriver)
    for _ in range(3):
        await driver.advance(4.0)
        await app.ops.sync()
    uptime = app.ops.vm(name).uptime_s
    assert uptime is not None and uptime >= 8.0  # was stuck at 0.0s for a minute


def a_host(**figures: object) -> Host:
    facts: dict[str, Any] = dict(
        name="rk1-h01",
        state=HostState.UP,
        rack="rk1",
        room="dc1-room1",
        site="dc1",
        model="PowerEdge R650",
        cpus=64,
        cores=32,
        mhz=2600,
        memory_mib=512 * 1024,
        nic_gbps=25,
        reserved_cpus=2,
        reserved_memory_mib=8192,
        datastores=("ds-room1", "rk1-h01-local"),
        cpu_util=0.85,
        memory_used_mib=200 * 1024,
        power_watts=362.0,
        vm_count=12,
    )
    facts.update(figures)
    return Host(**facts)


RACK = Rack("rk1", "dc1-room1", "dc1", power_budget_kw=15, uplink_gbps=100)


def detail(host: Host, width: int = 120, others: tuple[Host, ...] = ()) -> str:
    text = host_detail(
        host,
        Allocation(vcpus=96, memory_mib=240 * 1024),
        maintenance=False,
        rack=RACK,
        rack_hosts=[host, *others],
        width=width,
    )
    return text.plain


def test_unknown_power_is_a_dash_not_zero() -> None:
    shown = detail(a_host(power_watts=None))
    assert "Host power  —" in shown and "rk1: — of 15 kW" in shown
    assert "0 W" not in shown and "0.0" not in shown
    partial = detail(a_host(), others=(a_host(name="rk1-h02", power_watts=None),))
    assert "rk1: ≥0.4 of 15 kW" in partial
    assert HOST_COLUMNS[-1][1](a_host(power_watts=None)) == "—"


def test_unknown_uptime_and_cpu_are_a_dash() -> None:
    vm = Vm("web-001", VmState.RUNNING, "rk1-h01", 2, 4096, 4, 8192, uptime_s=None, cpu_util=None)
    row = {heading: str(get(vm)) for heading, get in VM_COLUMNS}
    assert row["uptime"] == "—" and row["cpu%"] == "—"
    assert "CPU — · steal — · up —" in vm_facts(vm, None, None, None).plain
    assert {h: str(g(replace(vm, uptime_s=95.0))) for h, g in VM_COLUMNS}["uptime"] == "1m35s"


def test_contention_shows_the_shared_pool_and_each_vms_steal() -> None:
    contention = CpuContention("rk1-h01", 2, 8, 22, 40.0, {"web-001": 0.45, "rt": 0.0})
    shown = host_detail(
        a_host(),
        Allocation(vcpus=96, memory_mib=240 * 1024),
        maintenance=False,
        rack=RACK,
        rack_hosts=[a_host()],
        width=160,
        contention=contention,
    ).plain
    pool = next(line for line in shown.splitlines() if line.startswith("CPU pool"))
    assert "shared 22 CPUs, wanted 40.0 (1.8x): shared VMs wait 45% of the time they want" in pool
    assert "dedicated 8, reserved 2" in pool
    assert "CPU pool    —" in detail(a_host())  # not measured (real hosts): unknown, not 0
    vm = Vm("web-001", VmState.RUNNING, "rk1-h01", 2, 4096, 4, 8192, cpu_util=0.8)
    assert "CPU 80 % · steal 45 % · up" in vm_facts(vm, None, None, None, steal=0.45).plain
    assert "steal 0 %" in vm_facts(vm, None, None, None, steal=0.0).plain


def test_the_cpu_bar_is_busy_against_capacity_and_the_labels_say_what() -> None:
    shown = detail(a_host(cpu_util=0.85))
    busy = next(line for line in shown.splitlines() if line.startswith("CPU busy"))
    assert busy.count("█") == round(0.85 * bar_width(120)) and "85% of 64 CPUs" in busy
    held = next(line for line in shown.splitlines() if line.startswith("vCPUs held"))
    assert "96 of 248 (1.5x, limit 4x)" in held
    assert "Host power  362 W" in shown and "Rack power" in shown


def test_the_host_detail_never_breaks_a_phrase_at_100x30() -> None:
    width = 52  # what the pane beside the tree has at 100 columns
    shown = detail(a_host(), width=width)
    assert all(len(line) <= width for line in shown.splitlines()), shown
    assert "85% of 64 CPUs" in shown and "rack rk1: 0.4 of 15 kW" in shown


def test_a_host_in_maintenance_says_so_in_its_rack() -> None:
    row = rack_host_row(a_host(), Allocation(), maintenance=True)
    assert row[1] == "maintenance"


def test_a_vm_over_ssh_shows_unknown_sizes_as_dashes() -> None:
    """The SSH driver knows no datastore capacity (0.0) and may miss a disk's size."""
    vm = Vm(
        "db-001",
        VmState.RUNNING,
        "rk1-h01",
        4,
        8192,
        8,
        16384,
        datastore="default",
        disks=(Disk("vda", "/var/lib/libvirt/images/db-001.qcow2", None),),
    )
    store = Datastore("default", DatastoreKind.SHARED, 0.0, room="dc1-room1")
    facts = vm_facts(vm, None, store, None).plain
    assert "default (shared, capacity —)" in facts and "0 MiB" not in facts
    assert "vda — /var/lib/libvirt/images/db-001.qcow2" in facts
