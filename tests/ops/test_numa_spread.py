"""Dedicated VMs over several NUMA nodes: only when their flavor allows it (`numa:
spread`), only when no single node holds them, memory bound to the nodes of their vCPUs."""

from __future__ import annotations

from tests.ops.test_numa import dedicated, two_nodes
from tests.ops.test_scheduler import host
from vdctui.model import CpuPolicy, NumaPolicy, ThreadPolicy, VmCpus
from vdctui.ops.scheduler import CpuLedger, FleetView, claim, pick, place
from vdctui.ops.scheduler.numa import CoreMap, choose_pins
from vdctui.ops.scheduler.numa_spread import memory_by_node, memory_nodes, split_memory

SPREAD = NumaPolicy.SPREAD


def test_memory_is_split_in_proportion_to_the_vcpus_of_each_node() -> None:
    assert split_memory(8192, {0: 3, 1: 1}) == {0: 6144, 1: 2048}
    assert split_memory(1001, {0: 1, 1: 1}) == {0: 501, 1: 500}  # the remainder to the first
    assert split_memory(1024, {}) == {}


def test_ten_vcpus_on_two_nodes_of_8_refused_unless_the_flavor_allows_spreading() -> None:
    view = FleetView([host("h1", cpus=16)], cpus=CpuLedger({"h1": two_nodes("h1")}))
    refused = place(view, dedicated("ten", 10))
    assert refused.best is None
    assert refused.why_not("h1") == (
        "needs 10 dedicated cores in one NUMA node; largest free: 8 "
        "(its flavor does not allow spreading over nodes)"
    )
    spread = dedicated("ten", 10, memory=10240, numa=SPREAD)
    assert pick(view, spread) == "h1"
    pins = claim(view, "h1", spread)
    assert pins.node is None and pins.numa is SPREAD and len(set(pins.vcpu_pins)) == 10
    topology = two_nodes("h1")
    per_node = memory_by_node(topology, pins)
    assert per_node == {0: 5120, 1: 5120}  # 5 vCPUs in each node: as even as they allow
    assert memory_nodes(topology, pins) == (0, 1)
    assert view.numa.maps["h1"].node_memory_held == per_node
    view.numa.release("ten")
    assert view.numa.maps["h1"].node_memory_held == {0: 0, 1: 0}


def test_a_vm_that_fits_one_node_stays_in_one_node_even_when_it_may_spread() -> None:
    cmap = CoreMap.of(two_nodes("h"), ())
    pins = choose_pins(cmap, "db", 6, 4096, ThreadPolicy.PREFER, SPREAD)
    assert isinstance(pins, VmCpus)
    assert pins.node is not None
    assert memory_nodes(cmap.topology, pins) == (pins.node,)


def test_spread_is_as_even_as_the_nodes_room_allows() -> None:
    held = VmCpus("a", CpuPolicy.DEDICATED, host="h", vcpu_pins=(0, 1, 2, 3, 4, 5), node=0)
    cmap = CoreMap.of(two_nodes("h"), [held])  # node 0: 2 free, node 1: 8
    pins = choose_pins(cmap, "db", 9, 9000, ThreadPolicy.PREFER, SPREAD)
    assert isinstance(pins, VmCpus)
    assert memory_by_node(cmap.topology, pins) == {0: 2000, 1: 7000}  # 2 + 7 vCPUs


def test_spreading_past_every_free_cpu_is_refused_with_the_total() -> None:
    held = VmCpus("a", CpuPolicy.DEDICATED, host="h1", vcpu_pins=(0, 1, 2, 3), node=0)
    ledger = CpuLedger({"h1": two_nodes("h1")}, {"a": held})
    view = FleetView([host("h1", cpus=16)], cpus=ledger)
    answer = place(view, dedicated("big", 13, numa=SPREAD))
    assert answer.why_not("h1") == ("needs 13 dedicated cores over its NUMA nodes; free in all: 12")
    assert place(view, dedicated("twelve", 12, numa=SPREAD)).best == "h1"


def test_a_spread_vms_memory_must_fit_in_each_node_it_uses() -> None:
    cmap = CoreMap.of(two_nodes("h"), ())  # 32768 MiB a node
    why = choose_pins(cmap, "fat", 10, 70000, ThreadPolicy.PREFER, SPREAD)
    assert why == (
        "needs 35000 MiB beside its cores in NUMA node 0 of host h, which has 32768 MiB free"
    )
