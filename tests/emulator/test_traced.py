"""VMs with their own capacity (MIPS), recorded traces played at the clock's time of day,
and the data center built from a folder of PlanetLab traces (emulator/traced.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulator import FleetFile, InvalidOperation
from emulator.traced import G4, G5, build_traced, read_day, vm_types
from tests.newcomer import shared_dir
from tests.traced_day import write_day

from .conftest import add_vm, small_fleet

SHARED = shared_dir()
DAY = SHARED / "traces" / "planetlab" / "20110303" if SHARED else Path("/nonexistent")


def test_a_vm_with_its_own_mips_asks_the_same_demand_on_any_host() -> None:
    f = small_fleet()
    f.add_trace("busy", [0.5], 300.0)
    f.hosts["rb1"].mhz = 1000  # slower cores there
    f.define_vm("v", "ra1", vcpus=1, memory_mib=1024, workload="trace:busy", mips=1500)
    f.start_vm("v")
    v = f.vms["v"]
    assert v.cpu_util == pytest.approx(750 / 2000)  # 0.5 x 1500 MIPS on 2000 MHz cores
    assert f.hosts["ra1"].demand_mhz == pytest.approx(750)
    f.migrate("v", "rb1")
    f.step(60)
    assert v.host == "rb1"
    assert v.cpu_util == pytest.approx(750 / 1000)  # the same demand, slower cores
    assert f.hosts["rb1"].demand_mhz == pytest.approx(750)
    assert f.hosts["ra1"].demand_mhz == pytest.approx(0)


def test_a_vm_without_mips_keeps_its_level_as_its_share_of_vcpus() -> None:
    f = small_fleet()
    add_vm(f, "v", "ra1", workload="constant:0.5", vcpus=2)
    assert f.vms["v"].cpu_util == 0.5
    assert f.hosts["ra1"].demand_mhz == pytest.approx(2 * 0.5 * 2000)


def test_more_demand_than_its_vcpus_get_is_all_of_them() -> None:
    f = small_fleet()
    f.add_trace("full", [1.0], 300.0)
    f.define_vm("v", "ra1", vcpus=1, memory_mib=1024, workload="trace:full", mips=2500)
    f.start_vm("v")
    assert f.vms["v"].cpu_util == 1.0
    assert f.hosts["ra1"].demand_mhz == pytest.approx(2000)


def test_a_negative_capacity_is_refused() -> None:
    with pytest.raises(InvalidOperation, match="MIPS"):
        small_fleet().define_vm("v", "ra1", vcpus=1, memory_mib=1, mips=-1)


def test_an_aligned_trace_plays_at_the_time_of_day_on_every_vm() -> None:
    f = small_fleet()
    f.now = 86400.0 * 3 + 600.0  # 00:10 UTC, three days in: value 2
    f.add_trace("day", [0.1, 0.2, 0.3, 0.4], 300.0, aligned=True)
    f.add_trace("loose", [0.1, 0.2, 0.3, 0.4], 300.0)
    for name in ("a", "b", "c"):
        add_vm(f, name, workload="trace:day", memory_gib=1)
    assert {f.vms[n].cpu_util for n in "abc"} == {0.3}
    f.step(300)
    assert {f.vms[n].cpu_util for n in "abc"} == {0.4}
    f.step(300)
    assert {f.vms[n].cpu_util for n in "abc"} == {0.1}  # the loop wraps around
    for name in ("x", "y", "z", "w"):
        add_vm(f, name, workload="trace:loose", memory_gib=1)
    assert len({f.vms[n].trace_offset for n in "xyzw"}) == 4  # each starts its own point


def test_mips_and_aligned_traces_are_saved(tmp_path: Path) -> None:
    f = small_fleet()
    f.add_trace("day", [0.2, 0.6], 300.0, aligned=True)
    f.define_vm("v", "ra1", vcpus=1, memory_mib=1024, workload="trace:day", mips=1000)
    f.start_vm("v")
    FleetFile(tmp_path / "f.db").save(f, full=True)
    g = FleetFile(tmp_path / "f.db").load()
    assert g.vms["v"].mips == 1000 and g.traces["day"].aligned
    assert g.vms["v"].cpu_util == pytest.approx(0.2 * 1000 / 2000)
    assert g.hosts["ra1"].demand_mhz == pytest.approx(200)


def test_a_folder_of_traces_becomes_cloudsims_data_center(tmp_path: Path) -> None:
    day = read_day(write_day(tmp_path / "day", {f"t{k}": [k * 10, 50, 0] for k in range(8)}))
    assert day.names == tuple(f"t{k}" for k in range(8))
    f = build_traced(day, hosts=6, epoch=86400.0 * 10)
    assert len(f.vms) == 8 and len(f.hosts) == 6
    models = [f.hosts[n].model for n in sorted(f.hosts)]
    assert models == [G4.name, G5.name] * 3
    vms = [f.vms[n] for n in sorted(f.vms)]
    assert [v.mips for v in vms] == [t[0] for t in vm_types(8)] == [2500, 2500, 2000, 2000,
                                                                  1000, 1000, 500, 500]  # fmt: skip
    assert [v.workload for v in vms] == [f"trace:t{k}" for k in range(8)]
    for v, k in zip(vms, range(8), strict=True):
        assert v.state == "running" and v.vcpus == 1
        assert v.cpu_util * f.hosts[v.host].mhz == pytest.approx(v.mips * k / 10)
    assert all(h.state == "up" for h in f.hosts.values())  # the balancer powers off
    assert any(not h.vm_names for h in f.hosts.values())
    for h in f.hosts.values():  # the first placement stays under 80 % of capacity
        assert h.demand_mhz <= 0.8 * h.threads * h.mhz
        assert sum(f.vms[n].memory_mib for n in h.vm_names) <= h.memory_mib
    f.step(300)
    assert vms[3].cpu_util * f.hosts[vms[3].host].mhz == pytest.approx(2000 * 0.5)


def test_picking_fewer_traces_spreads_them_over_the_folder(tmp_path: Path) -> None:
    day = read_day(write_day(tmp_path / "day", {f"t{k:02d}": [k] for k in range(12)}))
    assert day.pick(4).names == ("t00", "t03", "t06", "t09")
    with pytest.raises(InvalidOperation, match="holds 12 traces: give 1 to 12 VMs, not 13"):
        day.pick(13)


@pytest.mark.parametrize(
    ("files", "sentence"),
    [
        (None, "There is no trace folder"),
        ({}, "holds no trace files"),
        ({"a": "10\n20\nx\n"}, "Trace file 'a' value 3 is 'x', not a CPU percentage"),
        ({"a": "10\n101\n"}, "value 2 is '101'"),
        ({"a": "-5\n"}, "value 1 is '-5'"),
        ({"a": "0.5\n"}, "value 1 is '0.5'"),
        ({"a": ""}, "Trace file 'a' is empty"),
        ({"a": "1\n", "b\x1bc": "1\n"}, "has a name other than letters"),
        ({"a": "\xff\xfe"}, "is not text"),
    ],
)
def test_bad_trace_folders_are_refused_in_one_sentence(
    tmp_path: Path, files: dict[str, str] | None, sentence: str
) -> None:
    folder = tmp_path / "day"
    if files is not None:
        folder.mkdir()
        for name, text in files.items():
            (folder / name).write_bytes(text.encode("latin-1"))
    with pytest.raises(InvalidOperation) as refused:
        read_day(folder)
    message = str(refused.value)
    assert sentence in message
    assert "\n" not in message and "\x1b" not in message


def test_a_file_is_not_a_folder(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("1\n")
    with pytest.raises(InvalidOperation, match="is not a folder of trace files"):
        read_day(tmp_path / "f")


def test_too_few_hosts_are_refused(tmp_path: Path) -> None:
    day = read_day(write_day(tmp_path / "day", {f"t{k}": [90] for k in range(8)}))
    with pytest.raises(InvalidOperation, match="2 hosts have no room for 8 traced VMs"):
        build_traced(day, hosts=2)


@pytest.mark.skipif(not DAY.is_dir(), reason="the PlanetLab traces are not beside the project")
def test_the_planetlab_day_builds_as_cloudsim_sets_it_up() -> None:
    f = build_traced(read_day(DAY))
    assert len(f.vms) == 1052 and len(f.hosts) == 800
    assert sum(bool(h.vm_names) for h in f.hosts.values()) < 800
