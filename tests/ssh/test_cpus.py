"""Parsing what real virsh says about cores: `capabilities` (captured on a lab host),
`vcpupin` and `emulatorpin` (their -q output, as the lab printed it)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vdctui.drivers.ssh.cpus import (
    cpu_list,
    numatune,
    parse_capabilities,
    parse_cpu_list,
    parse_emulatorpin,
    parse_numatune,
    parse_vcpupin,
    vcpupin,
)
from vdctui.drivers.ssh.parsers import VirshOutputError

LAB_CAPABILITIES = (Path(__file__).parent / "virsh" / "capabilities-lab.xml").read_text()

TWO_SOCKETS = """<capabilities><host><topology><cells num='2'>
<cell id='0'><memory unit='KiB'>67108864</memory><cpus num='4'>
<cpu id='0' socket_id='0' die_id='0' core_id='0' siblings='0,2'/>
<cpu id='1' socket_id='0' die_id='0' core_id='1' siblings='1,3'/>
<cpu id='2' socket_id='0' die_id='0' core_id='0' siblings='0,2'/>
<cpu id='3' socket_id='0' die_id='0' core_id='1' siblings='1,3'/>
</cpus></cell>
<cell id='1'><memory unit='KiB'>67108864</memory><cpus num='4'>
<cpu id='4' socket_id='1' die_id='0' core_id='0' siblings='4,6'/>
<cpu id='5' socket_id='1' die_id='0' core_id='1' siblings='5,7'/>
<cpu id='6' socket_id='1' die_id='0' core_id='0' siblings='4,6'/>
<cpu id='7' socket_id='1' die_id='0' core_id='1' siblings='5,7'/>
</cpus></cell></cells></topology></host></capabilities>"""


def test_the_lab_hosts_capabilities_one_node_two_cores() -> None:
    topology = parse_capabilities("labh1", LAB_CAPABILITIES, reserved_count=1)
    assert [n.cores for n in topology.nodes] == [((0,), (1,))]
    assert topology.nodes[0].memory_mib == 11102420 // 1024
    assert topology.reserved == (0,) and topology.source == "virsh capabilities"


def test_siblings_are_grouped_into_cores_per_socket() -> None:
    topology = parse_capabilities("h", TWO_SOCKETS, reserved_count=2)
    assert [n.cores for n in topology.nodes] == [((0, 2), (1, 3)), ((4, 6), (5, 7))]
    assert topology.reserved == (0, 2)  # one whole core covers two reserved CPUs


def test_bad_capabilities_are_an_error_not_a_guess() -> None:
    for text in ("not xml", "<capabilities/>", TWO_SOCKETS.replace("id='5'", "id='five'")):
        with pytest.raises(VirshOutputError):
            parse_capabilities("h", text)


def test_vcpupin_and_emulatorpin_answers_from_the_lab() -> None:
    assert parse_vcpupin(" 0   1\n 1   0-1\n 2   1\n 3   0-1\n") == ((1,), (0, 1), (1,), (0, 1))
    header = " VCPU   CPU Affinity\n----------------------\n 0      1\n 1      0-1\n"
    assert parse_vcpupin(header) == ((1,), (0, 1))
    assert parse_emulatorpin("0-1\n") == (0, 1)
    assert parse_emulatorpin(" *: 0\n") == (0,)
    with pytest.raises(VirshOutputError):
        parse_vcpupin(" 0   1 2\n")


def test_a_pin_command_quotes_the_name() -> None:
    line = vcpupin("qemu:///system", "x; reboot", 0, (3, 1), live=True)
    assert "'x; reboot'" in line and "--cpulist 1,3 --live --config" in line


@given(st.lists(st.integers(0, 4096), min_size=1, max_size=50))
def test_cpu_lists_read_back(cpus: list[int]) -> None:
    assert parse_cpu_list(cpu_list(cpus)) == tuple(sorted(set(cpus)))


def test_numatune_binds_memory_strictly_and_reads_back_as_the_lab_prints_it() -> None:
    line = numatune("qemu:///system", "x; reboot", (1, 0), live=True)
    assert "'x; reboot'" in line
    assert "numatune --domain" in line and line.endswith("--nodeset 0,1 --live")
    assert "--mode" not in line  # libvirt 9 refuses a mode for a running domain that had none
    config = numatune("qemu:///system", "db", (1,), live=False)
    assert config.endswith("--mode strict --nodeset 1 --config")
    assert parse_numatune("numa_mode      : strict\nnuma_nodeset   : 0\n\n") == (0,)
    assert parse_numatune("numa_mode      : strict\nnuma_nodeset   : \n") == ()
    assert parse_numatune("numa_mode      : strict\nnuma_nodeset   : 0-1\n") == (0, 1)
    with pytest.raises(VirshOutputError):
        parse_numatune("error: no domain\n")
