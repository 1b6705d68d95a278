"""The host pane's core map: nodes, reserved CPUs, a dedicated VM's letter, names escaped."""

from __future__ import annotations

from tests.ui.test_truths import RACK, a_host
from vdctui.model import CpuPolicy, ThreadPolicy, VmCpus
from vdctui.ops.core_map import grid_lines, host_cores
from vdctui.ops.placement import Allocation
from vdctui.ops.scheduler.regular import regular_topology
from vdctui.ui.screens.host_detail import host_detail


def test_the_host_pane_shows_its_cores_node_by_node() -> None:
    topology = regular_topology(
        "rk1-h01",
        nodes=2,
        cores_per_node=4,
        threads=2,
        memory_mib=65536,
        reserved=(0, 8),
        source="emulator host model",
    )
    hostile = "db\x1b[2J"
    vms = [
        VmCpus(
            hostile, CpuPolicy.DEDICATED, host="rk1-h01", vcpu_pins=(1, 9), node=0, taken=(1, 9)
        ),
        VmCpus(
            "rt",
            CpuPolicy.DEDICATED,
            ThreadPolicy.ISOLATE,
            "rk1-h01",
            (4, 5),
            node=1,
            taken=(4, 5, 12, 13),
        ),
    ]
    cores = host_cores(topology, vms)
    assert cores.nodes[0].free_cpus == 4 and cores.nodes[1].free_cores == 2
    text = host_detail(
        a_host(),
        Allocation(4, 4096),
        maintenance=False,
        rack=RACK,
        rack_hosts=[a_host()],
        width=100,
        cpu_map=cores,
    ).plain
    assert "Cores  2 NUMA nodes (emulator host model)" in text
    assert "    cpu 0- Ra.." in text and "    cpu 8- Ra.." in text  # core 1: both threads
    assert "    cpu 4- bb.." in text and "   cpu 12- xx.." in text  # isolate: siblings idle
    assert "\x1b" not in text
    assert any(
        line.startswith("b rt: 2 vCPUs on CPUs 4-5 (node 1, threads isolate)")
        for line in grid_lines(cores)
    )
