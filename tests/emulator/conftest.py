"""A small hand-built fleet whose figures are easy to check by hand."""

from __future__ import annotations

import pytest

from emulator import Fleet

GIB = 1 << 30
CURVE = (100, 150, 180, 210, 240, 270, 300, 330, 360, 400, 450)


def small_fleet(seed: int = 1, nic_gbps: float = 10.0, uplink_gbps: float = 40.0) -> Fleet:
    """2 racks × 2 hosts (10 GbE), one shared datastore, a local datastore per host."""
    f = Fleet(seed=seed)
    f.add_site("s1")
    f.add_room("room1", "s1")
    f.add_datastore("san", "shared", 10_000, room="room1")
    f.add_network("prod", 100)
    for rack in ("ra", "rb"):
        f.add_rack(rack, "room1", power_budget_kw=10, uplink_gbps=uplink_gbps)
        for i in (1, 2):
            f.add_host(
                f"{rack}{i}",
                rack,
                cores=16,
                threads=32,
                mhz=2000,
                memory_mib=65536,
                nic_gbps=nic_gbps,
                power_curve=CURVE,
                reserved_cpus=2,
                reserved_memory_mib=4096,
                local_datastore_gib=1000,
            )
    return f


def add_vm(
    f: Fleet,
    name: str = "vm1",
    host: str = "ra1",
    *,
    memory_gib: int = 4,
    dirty: float = 0.0,
    datastore: str = "san",
    start: bool = True,
    workload: str = "constant:0.5",
    vcpus: int = 2,
) -> None:
    f.define_vm(
        name,
        host,
        vcpus=vcpus,
        memory_mib=memory_gib * 1024,
        max_vcpus=8,
        max_memory_mib=max(16384, memory_gib * 1024),
        disk_gib=10,
        datastore=datastore,
        network="prod",
        workload=workload,
        dirty_rate=dirty,
    )
    if start:
        f.start_vm(name)


@pytest.fixture
def fleet() -> Fleet:
    return small_fleet()
