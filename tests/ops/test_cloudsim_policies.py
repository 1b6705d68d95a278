"""CloudSim 3.0.3's own policies as the replay runs them (bench/_cloudsim_policies.py),
on tiny fleets whose decisions can be worked out by hand."""

from __future__ import annotations

import copy
import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

_path = Path(__file__).resolve().parents[2] / "bench" / "_cloudsim_policies.py"
_spec = importlib.util.spec_from_file_location("_cloudsim_policies", _path)
assert _spec and _spec.loader
cp = importlib.util.module_from_spec(_spec)
sys.modules["_cloudsim_policies"] = cp
_spec.loader.exec_module(cp)

G4 = (86, 89.4, 92.6, 96, 99.5, 102, 106, 108, 112, 114, 117)
G5 = (93.7, 97, 101, 105, 110, 116, 121, 125, 129, 133, 135)
THR = cp.Policy("THR-0.8", "thr", 0.8)


def hosts(*models: str) -> cp.Hosts:
    pe = np.array([1860.0 if m == "g4" else 2660.0 for m in models])
    curves = np.array([G4 if m == "g4" else G5 for m in models], dtype=float)
    return cp.Hosts(pe, curves)


def no_history(n: int) -> np.ndarray:
    return np.zeros((n, cp.HISTORY))


def test_power_is_linear_between_the_ten_percent_points() -> None:
    h = hosts("g4", "g5")
    assert cp.power(h.curves, np.array([0.0, 1.0])).tolist() == [86.0, 135.0]
    assert cp.power(h.curves, np.array([0.05, 0.95])) == pytest.approx([87.7, 134.0])


def test_thr_is_over_strictly_above_its_threshold() -> None:
    cap = np.array([100.0, 100.0])
    over = cp.over_utilized(THR, np.array([80.0, 80.5]), cap, no_history(2))
    assert over.tolist() == [False, True]


@pytest.mark.parametrize("detection", ["iqr", "mad", "lr"])
def test_adaptive_policies_fall_back_to_thr_07_until_the_history_is_long_enough(
    detection: str,
) -> None:
    policy = cp.Policy("x", detection, 1.0)
    history = no_history(2)
    history[:, :9] = 0.5  # 9 values: too short for any of them
    over = cp.over_utilized(policy, np.array([70.0, 71.0]), np.array([100.0, 100.0]), history)
    assert over.tolist() == [False, True]


def test_iqr_and_mad_thresholds_as_mathutil_computes_them() -> None:
    values = np.array([0.1 * (i % 5) for i in range(12)])  # 0, .1, .2, .3, .4, 0, ...
    history = no_history(1)
    history[0, :12] = values + 0.05  # no zero: all 12 count
    # MathUtil.iqr on 12 values: sorted[round(9.75) - 1] - sorted[round(3.25) - 1]
    ordered = np.sort(values + 0.05)
    assert cp.iqr(history[:, :12])[0] == pytest.approx(ordered[9] - ordered[2])
    median = np.median(values)
    assert cp.mad(history[:, :12])[0] == pytest.approx(np.median(np.abs(values - median)))
    # IQR 1.5: threshold 1 - 1.5 x 0.3 = 0.55
    iqr = cp.Policy("IQR", "iqr", 1.5)
    cap = np.array([100.0])
    assert cp.over_utilized(iqr, np.array([54.9]), cap, history).tolist() == [False]
    assert cp.over_utilized(iqr, np.array([55.1]), cap, history).tolist() == [True]


def test_lr_extrapolates_the_last_ten_values_one_interval_ahead() -> None:
    history = no_history(1)
    history[0, :10] = [0.9 - 0.05 * i for i in range(10)]  # newest first: rising by 5 %
    assert cp.lr_prediction(history)[0] == pytest.approx(0.95)
    lr = cp.Policy("LR", "lr", 1.2)
    # 0.95 x 1.2 >= 1: over, whatever the current request
    assert cp.over_utilized(lr, np.array([1.0]), np.array([100.0]), history).tolist() == [True]
    history[0, :10] = 0.5
    assert cp.over_utilized(lr, np.array([99.0]), np.array([100.0]), history).tolist() == [False]


def test_first_placement_spreads_vms_and_respects_the_pe() -> None:
    # with every host's power still read at 0 %, an empty host always adds least
    members = cp.initial_placement(
        hosts("g4", "g5", "g4", "g5"), np.array([2500.0, 500.0, 500.0]), np.array([870, 613, 613])
    )
    # the 2500-MIPS VM cannot run on a 1860-MIPS PE: the first G5; the first 500 adds
    # 3.1 W on the empty G5 (4.5 W on an empty G4); the second 4.5 W on the first G4
    assert members == [[2], [0], [], [1]]


def snapshot() -> tuple[cp.Hosts, list[list[int]], np.ndarray, np.ndarray, np.ndarray]:
    """Host 0 over 80 % with three VMs, host 1 nearly idle, host 2 half full, host 3 off."""
    h = hosts("g5", "g5", "g5", "g5")
    members = [[0, 1, 2], [3], [4], []]
    request = np.array([2000.0, 1500.0, 1000.0, 100.0, 2600.0])
    mips = np.array([2500.0, 2000.0, 1000.0, 500.0, 2500.0])
    ram = np.array([870.0, 1740.0, 613.0, 613.0, 870.0])
    return h, members, request, mips, ram


def test_an_over_utilized_host_sheds_its_least_ram_vm_and_the_idle_host_is_emptied() -> None:
    h, members, request, mips, ram = snapshot()
    before = copy.deepcopy(members)
    moves = cp.optimize_allocation(THR, h, members, request, mips, ram, no_history(5))
    assert members == before  # nothing given is changed
    # host 0 asks 4500 / 5320 = 85 %: its 613-MB VM (2) leaves, which brings it to 66 %
    assert moves[0][0] == 2 and moves[0][1] != 0
    # host 1 (2 %) is emptied first; its VM goes to a host that stays under 80 %
    assert (3, 1) not in moves and any(v == 3 for v, _ in moves)
    after = cp.after_migrations(members, moves, ram)
    assert sorted(v for m in after for v in m) == [0, 1, 2, 3, 4]
    assert 2 not in after[0] and 3 not in after[1]


def test_a_relief_target_can_be_emptied_in_the_same_round_and_the_vm_moves_twice() -> None:
    # host 0 sheds VM 0 (870 MB) onto host 1, which adds least power (22.1 W against
    # 23.6 W on host 2); CloudSim does not keep relief targets from being emptied, and
    # host 1 (1.9 % at the last update) is the least utilized: VM 0 and VM 2 go to host 2
    h = hosts("g5", "g5", "g5")
    members = [[0, 1], [2], [3]]
    request = np.array([2600.0, 2000.0, 100.0, 1000.0])
    mips = np.array([2600.0, 2000.0, 500.0, 1000.0])
    ram = np.array([870.0, 1740.0, 613.0, 1740.0])
    moves = cp.optimize_allocation(THR, h, members, request, mips, ram, no_history(4))
    assert moves == [(0, 1), (0, 2), (2, 2)]
    vms, targets = cp.passed_through(moves)
    assert vms.tolist() == [0] and targets.tolist() == [1]
    assert cp.after_migrations(members, moves, ram) == [[1], [], [3, 2, 0]]


def test_migrations_complete_shortest_first_and_join_the_end_of_the_list() -> None:
    members = [[0, 1], [2], []]
    ram = np.array([1740.0, 613.0, 870.0])
    after = cp.after_migrations(members, [(0, 2), (1, 2), (2, 0)], ram)
    assert after == [[2], [], [1, 0]]
    # a VM moved twice lands on its last target
    assert cp.after_migrations(members, [(1, 1), (1, 2)], ram) == [[0], [2], [1]]


def test_a_vm_asking_nothing_twice_in_a_row_is_finished() -> None:
    now, nxt = np.array([0.0, 0.0, 0.3]), np.array([0.0, 0.1, 0.0])
    assert cp.finished(now, nxt).tolist() == [True, False, False]
    assert cp.without([[0, 1], [2]], np.array([True, False, False])) == [[1], [2]]


def test_history_keeps_thirty_values_newest_first() -> None:
    h = no_history(1)
    for i in range(35):
        h = cp.push_history(h, np.array([float(i + 1)]))
    assert h[0, 0] == 35.0 and h[0, -1] == 6.0
    assert cp.trimmed_length(np.array([[0.3, 0.0, 0.2, 0.0, 0.0]])).tolist() == [3]
