"""Dedicated cores in the scheduler: the NUMA/pinning filter, its weigher, fragmentation,
shared overcommit over shared cores only, and pins kept across a move."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from tests.ops.test_scheduler import host, vm
from vdctui.model import CpuPolicy, NumaPolicy, ThreadPolicy, VmCpus
from vdctui.ops.scheduler import CpuLedger, FleetView, PlacementRequest, claim, pick, place
from vdctui.ops.scheduler.numa import CoreMap, choose_pins
from vdctui.ops.scheduler.regular import regular_topology

DEDICATED = CpuPolicy.DEDICATED


def two_nodes(name: str, *, cores: int = 8, threads: int = 1, reserved: tuple[int, ...] = ()):
    return regular_topology(
        name, nodes=2, cores_per_node=cores, threads=threads, memory_mib=65536, reserved=reserved
    )


def dedicated(name: str, vcpus: int, memory: int = 4096, **kw) -> PlacementRequest:
    return PlacementRequest(name, vcpus, memory, cpu_policy=DEDICATED, **kw)


def test_topology_numbers_cores_like_linux() -> None:
    topo = two_nodes("h", cores=4, threads=2)
    assert topo.nodes[0].cores == ((0, 8), (1, 9), (2, 10), (3, 11))
    assert topo.nodes[1].cores[0] == (4, 12)
    assert sorted(topo.cpus) == list(range(16))


def test_a_dedicated_vm_gets_cpus_of_its_own_in_one_node_never_reserved_ones() -> None:
    cmap = CoreMap.of(two_nodes("h", reserved=(0, 1)), ())
    pins = choose_pins(cmap, "db", 4, 4096, ThreadPolicy.PREFER)
    assert isinstance(pins, VmCpus)
    assert len(set(pins.vcpu_pins)) == 4
    node = cmap.topology.nodes[pins.node or 0]
    assert set(pins.vcpu_pins) <= set(node.cpus)
    assert not set(pins.vcpu_pins) & {0, 1}
    assert pins.emulator_pins == (0, 1)  # QEMU's own threads on the host's reserved CPUs
    # best fit: node 0 has 6 free (2 reserved), node 1 has 8: the fuller node is chosen
    assert pins.node == 0


def test_the_exclusion_names_the_largest_free_node() -> None:
    topo = two_nodes("h1", cores=8)
    held = [
        VmCpus("a", DEDICATED, host="h1", vcpu_pins=(0, 1), node=0),
        VmCpus("b", DEDICATED, host="h1", vcpu_pins=(8, 9, 10, 11), node=1),
    ]
    ledger = CpuLedger({"h1": topo}, {v.vm: v for v in held})
    view = FleetView([host("h1", cpus=16)], cpus=ledger)
    answer = place(view, dedicated("big", 8))
    assert answer.best is None
    assert answer.why_not("h1") == (
        "needs 8 dedicated cores in one NUMA node; largest free: 6 "
        "(its flavor does not allow spreading over nodes)"
    )
    assert answer.excluded[0].filter == "NUMATopologyFilter"
    # 6 fit in node 0
    assert place(view, dedicated("six", 6)).best == "h1"


def test_fragmentation_16_free_cpus_split_8_and_8_cannot_take_10() -> None:
    view = FleetView([host("h1", cpus=16)], cpus=CpuLedger({"h1": two_nodes("h1")}))
    assert place(view, dedicated("ten", 10)).why_not("h1") == (
        "needs 10 dedicated cores in one NUMA node; largest free: 8 "
        "(its flavor does not allow spreading over nodes)"
    )


def test_memory_must_fit_beside_the_cores_in_the_node() -> None:
    view = FleetView([host("h1", cpus=16)], cpus=CpuLedger({"h1": two_nodes("h1")}))
    reason = place(view, dedicated("fat", 2, memory=40000)).why_not("h1")
    assert (
        reason
        == "needs 40000 MiB beside its cores in one NUMA node; node 0 of host h1 has 32768 MiB free"
    )


def test_a_host_whose_topology_is_unknown_takes_no_dedicated_vm() -> None:
    view = FleetView([host("h1"), host("h2")], cpus=CpuLedger({"h2": two_nodes("h2")}))
    answer = place(view, dedicated("db", 2))
    assert answer.best == "h2"
    assert answer.why_not("h1") == "the CPU topology of host h1 is not known yet"


def test_isolate_takes_whole_cores_and_leaves_the_siblings_to_no_one() -> None:
    topo = two_nodes("h", cores=4, threads=2)
    cmap = CoreMap.of(topo, ())
    pins = choose_pins(cmap, "rt", 2, 1024, ThreadPolicy.ISOLATE)
    assert isinstance(pins, VmCpus)
    assert len(pins.taken) == 4  # two cores, both threads
    cmap.hold(pins)
    assert cmap.capacity(pins.node or 0, ThreadPolicy.ISOLATE) == 2
    prefer = choose_pins(cmap, "p", 4, 1024, ThreadPolicy.PREFER)
    assert isinstance(prefer, VmCpus)
    assert not set(prefer.vcpu_pins) & set(pins.taken)


def test_prefer_fills_half_used_cores_first() -> None:
    topo = two_nodes("h", cores=4, threads=2)
    cmap = CoreMap.of(topo, [VmCpus("a", DEDICATED, host="h", vcpu_pins=(0,), node=0)])
    pins = choose_pins(cmap, "b", 1, 1024, ThreadPolicy.PREFER)
    assert isinstance(pins, VmCpus)
    assert pins.vcpu_pins == (8,)  # the sibling of CPU 0, so whole cores stay free


def test_shared_overcommit_counts_only_shared_cpus() -> None:
    ledger = CpuLedger(
        {"h1": two_nodes("h1")},
        {"db": VmCpus("db", DEDICATED, host="h1", vcpu_pins=tuple(range(8)), node=0)},
    )
    vms = [vm("db", "h1", vcpus=8)]
    view = FleetView([host("h1", cpus=16)], vms, cpus=ledger)
    # 8 shared CPUs x 4 = 32 vCPUs; the dedicated VM's 8 vCPUs are not counted in them
    assert view.held_vcpus[0] == 0
    assert place(view, PlacementRequest("s", 32, 1024)).best == "h1"
    reason = place(view, PlacementRequest("s", 33, 1024)).why_not("h1")
    assert reason == "host h1 has 32 of 32 vCPUs free (overcommit 4x), 33 needed"


def test_batch_claims_pin_and_the_next_placement_sees_them() -> None:
    hosts = [host("h1", cpus=16), host("h2", cpus=16)]
    ledger = CpuLedger({h.name: two_nodes(h.name) for h in hosts})
    view = FleetView(hosts, cpus=ledger)
    placed: list[VmCpus] = []
    for k in range(4):
        req = dedicated(f"d{k}", 8)
        where = pick(view, req)
        assert where is not None
        placed.append(claim(view, where, req))
    assert pick(view, dedicated("d4", 1)) is None
    every = [cpu for p in placed for cpu in p.vcpu_pins]
    by_host = {h: [c for p in placed if p.host == h for c in p.vcpu_pins] for h in ("h1", "h2")}
    assert len(every) == 32
    assert all(len(set(cpus)) == 16 for cpus in by_host.values())
    view.numa.release("d0")
    assert pick(view, dedicated("d4", 8)) == placed[0].host


def test_a_move_chooses_pins_on_the_target_and_keeps_the_vm_dedicated() -> None:
    hosts = [host("h1", cpus=16), host("h2", cpus=16)]
    ledger = CpuLedger(
        {h.name: two_nodes(h.name) for h in hosts},
        {"db": VmCpus("db", DEDICATED, host="h1", vcpu_pins=(0, 1, 2, 3), node=0)},
    )
    view = FleetView(hosts, [vm("db", "h1", vcpus=4)], cpus=ledger)
    req = replace(dedicated("db", 4), current_host="h1")
    answer = place(view, req)
    assert answer.best == "h2"
    pins = claim(view, "h2", req)
    assert pins.host == "h2" and pins.dedicated and len(pins.vcpu_pins) == 4


def test_a_views_kept_fits_and_leftovers_match_a_fresh_reading_after_claims() -> None:
    """The NUMA view keeps `fits`/`leftover` per request shape and updates them host by
    host on each claim: after a batch they are what a fresh reading of the arrays says."""
    hosts = [host(f"h{i}", cpus=16) for i in range(6)]
    ledger = CpuLedger({h.name: two_nodes(h.name, cores=4, threads=2) for h in hosts})
    view = FleetView(hosts, cpus=ledger)
    shapes = [
        dedicated("a", 3),
        dedicated("b", 6, memory=40000, numa=NumaPolicy.SPREAD),
        dedicated("c", 2, threads=ThreadPolicy.ISOLATE),
    ]
    idx = np.arange(len(hosts))
    for k in range(12):
        for req in shapes:
            view.numa.fits(req), view.numa.leftover(req, idx)  # cached from here on
        req = replace(shapes[k % 3], vm=f"vm-{k}")
        where = pick(view, req)
        if where is not None:
            claim(view, where, req)
        for shape in shapes:
            assert (view.numa.fits(shape) == view.numa._fitting(shape)).all()
            assert (view.numa.leftover(shape, idx) == view.numa._leftover(shape)).all()
