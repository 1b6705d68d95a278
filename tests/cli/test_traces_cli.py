"""`vdctui emulate --traces DIR` and `vdctui console --traces DIR`: a data center whose VMs
replay a folder of PlanetLab-style CPU traces; a bad folder is refused in one sentence."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.conftest import Vdctui
from tests.cli.test_input_refused import refused_in_one_sentence
from tests.traced_day import random_day, write_day


@pytest.fixture
def day(tmp_path: Path) -> Path:
    return random_day(tmp_path / "day", 24, seed=5)


def test_emulate_builds_cloudsims_data_center_from_the_traces(tmp_path: Path, day: Path) -> None:
    vdctui = Vdctui(tmp_path / "dc.db")
    ran = vdctui("emulate", "--traces", str(day), "--for", "2h")
    assert ran.exit_code == 0, ran.output
    assert "Building a data center of 19 hosts and 24 VMs replaying the traces in" in ran.stderr
    assert "VMs:              24 (24 running)" in ran.stdout
    vms = vdctui.json("vm", "list")
    assert sorted(v["name"] for v in vms) == [f"pl-{k:04d}" for k in range(1, 25)]
    hosts = {h["name"]: h for h in vdctui.json("host", "list")}
    assert len(hosts) == 19  # CloudSim's 800 hosts per 1,052 VMs
    assert {h["mhz"] for h in hosts.values()} == {1860, 2660}
    assert all(v["vcpus"] == 1 for v in vms)
    assert {h["state"] for h in hosts.values()} == {"up"}  # until the balancer acts
    assert any(h["vm_count"] == 0 for h in hosts.values())
    files = sorted(day.iterdir())
    mips = [2500] * 6 + [2000] * 6 + [1000] * 6 + [500] * 6  # CloudSim's four VM types
    for vm, file, capacity in zip(sorted(vms, key=lambda v: v["name"]), files, mips, strict=True):
        if vm["cpu_util"] >= 1.0:
            continue  # more than one of its host's cores: it gets the core
        # its demand is its trace's value x its own MIPS, whatever its host's cores
        percent = vm["cpu_util"] * hosts[vm["host"]]["mhz"] / capacity * 100
        assert round(percent) in {int(x) for x in file.read_text().split()}
        assert percent == pytest.approx(round(percent), abs=1e-6)


def test_a_subset_of_the_traces_on_hosts_given(tmp_path: Path, day: Path) -> None:
    vdctui = Vdctui(tmp_path / "dc.db")
    ran = vdctui("emulate", "--traces", str(day), "--vms", "6", "--hosts", "5", "--for", "1m")
    assert ran.exit_code == 0, ran.output
    assert len(vdctui.json("vm", "list")) == 6 and len(vdctui.json("host", "list")) == 5
    again = vdctui("emulate", "--traces", str(day), "--for", "1m")
    assert again.exit_code == 0, again.output
    assert "--traces apply to a new one (see --fresh)" in again.stderr
    assert len(vdctui.json("vm", "list")) == 6  # the same data center, continued


@pytest.mark.parametrize(
    ("files", "sentence"),
    [
        (None, "There is no trace folder"),
        ({}, "holds no trace files"),
        ({"a": [10, 20], "b": ["x"]}, "Trace file 'b' value 1 is 'x', not a CPU percentage"),
        ({"a": [10, 250]}, "Trace file 'a' value 2 is '250'"),
    ],
)
def test_a_bad_trace_folder_is_refused_in_one_sentence(
    tmp_path: Path, files: dict[str, list[object]] | None, sentence: str
) -> None:
    folder = tmp_path / "day"
    if files is not None:
        write_day(folder, files)  # type: ignore[arg-type]
    for command in ("emulate", "console"):
        result = Vdctui(tmp_path / "dc.db")(command, "--traces", str(folder), "--for", "1m")
        if command == "console":  # no --for there: the folder is refused before it matters
            result = Vdctui(tmp_path / "dc.db")(command, "--traces", str(folder))
        refused_in_one_sentence(result, "--traces", sentence)
    assert not (tmp_path / "dc.fleet.db").exists()  # nothing was built


def test_more_vms_than_traces_are_refused(tmp_path: Path, day: Path) -> None:
    result = Vdctui(tmp_path / "dc.db")("emulate", "--traces", str(day), "--vms", "30")
    refused_in_one_sentence(result, "holds 24 traces: give 1 to 24 VMs, not 30")


def test_the_console_refuses_traces_for_a_data_center_it_has(tmp_path: Path, day: Path) -> None:
    vdctui = Vdctui(tmp_path / "dc.db")
    assert vdctui("emulate", "--hosts", "2", "--vms", "4", "--for", "1m").exit_code == 0
    result = vdctui("console", "--traces", str(day))
    refused_in_one_sentence(result, "--traces builds a new one")
