"""The host pane's core map: nodes, reserved CPUs, a dedicated VM's letter, names escaped."""

from __future__ import annotations

from tests.ui.test_truths import RACK, a_host
from vdctui.model import CpuPolicy, CpuTopology, NumaNode, ThreadPolicy, VmCpus
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
    assert "   cpus 0-3 Ra.." in text and "  cpus 8-11 Ra.." in text  # core 1: both threads
    assert "   cpus 4-7 bb.." in text and " cpus 12-15 xx.." in text  # isolate: siblings idle
    assert "\x1b" not in text
    assert any(
        line.startswith("b rt: 2 vCPUs on CPUs 4-5 (node 1, threads isolate)")
        for line in grid_lines(cores)
    )


def grid_rows(lines: list[str]) -> list[tuple[str, str]]:
    """The map's rows: (label, cells), split where the label ends."""
    rows = []
    for line in lines:
        head, _, cells = line.rpartition(" ")
        if head.strip().startswith("cpu"):
            rows.append((head, cells))
    return rows


def test_each_row_says_all_its_cpus_and_the_grid_starts_in_one_column() -> None:
    """A row's label names every CPU on it (`cpus 0-31`, not a cut `cpu 0-`), and every
    row's first cell is in the same column, whatever the length of its label."""
    topology = regular_topology("h", nodes=2, cores_per_node=32, threads=2, reserved=(0, 64))
    rows = grid_rows(grid_lines(host_cores(topology, [])))
    assert [label.strip() for label, _ in rows] == [
        "cpus 0-31",
        "cpus 64-95",
        "cpus 32-63",
        "cpus 96-127",
    ]
    assert len({len(label) for label, _ in rows}) == 1  # one column for the first cell
    assert rows[0][1] == "R" + "." * 31


def test_cpus_numbered_apart_are_written_with_their_step() -> None:
    """Cores whose first threads are 0, 2, 4 ... (a node of every other CPU) are written
    so, not as a range that would claim the CPUs between them."""
    node = NumaNode(0, tuple((2 * i, 2 * i + 64) for i in range(32)), 1024)
    other = NumaNode(1, tuple((2 * i + 1, 2 * i + 65) for i in range(32)), 1024)
    cores = host_cores(CpuTopology("h", (node, other)), [])
    labels = [label.strip() for label, _ in grid_rows(grid_lines(cores))]
    assert labels[:2] == ["cpus 0,2,…,62", "cpus 64,66,…,126"]


def test_a_row_wider_than_the_pane_goes_on_below_with_its_own_label() -> None:
    topology = regular_topology("h", nodes=1, cores_per_node=64, threads=2, reserved=(0,))
    for width in (30, 44, 56, 100):
        lines = grid_lines(host_cores(topology, []), width=width)
        assert all(len(line) <= width for line in lines), (width, lines)
        rows = grid_rows(lines)
        assert sum(len(cells) for _, cells in rows) == 128, (width, rows)
        if width < 80:
            assert [label.strip() for label, _ in rows][:2] != ["cpus 0-63", "cpus 64-127"]
