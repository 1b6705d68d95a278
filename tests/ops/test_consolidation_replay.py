"""The trace replay (bench/_replay.py) on a tiny day: both workloads, both kinds of
policy, and the held-out variants of a day."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

_bench = str(Path(__file__).resolve().parents[2] / "bench")
if _bench not in sys.path:
    sys.path.insert(0, _bench)

import _cloudsim_policies as cloudsim  # noqa: E402
import _replay as replay  # noqa: E402

# 8 VMs (two of each type), 6 samples; VM 7 reads 0 twice in a row from sample 2
DAY = [
    [30, 40, 50, 60, 50, 40],
    [20, 20, 30, 30, 20, 20],
    [10, 80, 90, 10, 10, 10],
    [50, 50, 50, 50, 50, 50],
    [5, 10, 5, 10, 5, 10],
    [90, 90, 90, 90, 90, 90],
    [40, 30, 20, 10, 20, 30],
    [10, 10, 0, 0, 0, 0],
]


def test_the_cloudsim_workload_removes_a_vm_asking_nothing_and_skips_the_first_interval() -> None:
    full = replay.run_cloudsim(DAY, 6, cloudsim.POLICIES[1], workload="full")
    cs = replay.run_cloudsim(DAY, 6, cloudsim.POLICIES[1], workload="cloudsim")
    assert full["removed"] == 0 and cs["removed"] == 1
    assert 0 < cs["energy_kwh"] < full["energy_kwh"]


@pytest.mark.parametrize("workload", replay.WORKLOADS)
def test_the_balancer_runs_on_both_workloads(workload: str) -> None:
    r = replay.run_ours(DAY, 6, "balancer", 3, 3, "cloudsim", workload)
    assert r["energy_kwh"] > 0 and r["removed"] == (1 if workload == "cloudsim" else 0)
    with pytest.raises(ValueError):
        replay.run_ours(DAY, 6, "balancer", 3, 3, "cloudsim", "another")


def test_held_out_variants_start_later_or_take_half_the_vms() -> None:
    later = replay.variant(DAY, start_hour=0)
    assert later == DAY
    day = [list(range(288)), list(range(288, 576)), list(range(576, 864))]
    noon = replay.variant(day, start_hour=12)
    assert noon[0][0] == 144 and noon[0][-1] == 143 and len(noon[0]) == 288
    assert replay.variant(day, vms="even") == [day[0], day[2]]
    assert replay.variant(day, vms="odd") == [day[1]]
    with pytest.raises(ValueError):
        replay.variant(day, start_hour=24)
