"""`bench/consolidation.py --engine fleet` (bench/_fleet_engine.py): the emulator stepped
over a day with the console's balancer carrying out its plans, measured as CloudSim
measures (energy, SLATAH, PDM, migrations), on days small enough to check by hand."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

_bench = str(Path(__file__).resolve().parents[2] / "bench")
if _bench not in sys.path:
    sys.path.insert(0, _bench)

import _fleet_engine as fleet_engine  # noqa: E402
import _replay as replay  # noqa: E402

from emulator.power import power_at  # noqa: E402
from emulator.traced import G4  # noqa: E402

# two VMs (2500 and 2000 MIPS): quiet for the first sample, then flat out
BUSY_DAY = [[10, 100, 100, 100, 100, 100], [10, 100, 100, 100, 100, 100]]


def test_one_host_flat_out_is_in_violation_for_the_time_it_is_short() -> None:
    r = fleet_engine.run_fleet(BUSY_DAY, 1, threshold=3)
    # 4 of the 5 intervals: both VMs capped at a G4 core (1860 MIPS), 3720 of 4500 asked
    assert r["slatah"] == pytest.approx(4 / 5)
    assert r["migrations"] == 0 and r["pdm"] == 0
    quiet = power_at(G4.curve, (250 + 200) / (2 * 1860))
    assert r["energy_kwh"] == pytest.approx((quiet * 300 + G4.curve[10] * 1200) / 3.6e6)


def test_a_host_over_target_is_relieved_and_the_move_costs_cloudsims_ten_percent() -> None:
    # four VMs (2500, 2000, 1000, 500 MIPS) on four hosts: at first two hold them and the
    # balancer powers the empty two off; flat out, the G5 holding 5,000 MIPS is over 80 %
    # and the 2,500-MIPS VM moves to the other G5 (no G4 core is fast enough for it)
    r = fleet_engine.run_fleet(BUSY_DAY * 2, 4, threshold=3)
    assert r["plans"] == 2 and r["migrations"] == 1
    assert r["failed"] == 0 and r["refused"] == 0 and r["slatah"] == 0
    requested = 600 * 300 + 6000 * 4 * 300  # MIPS x s over the five intervals
    lost = 0.1 * 2500 * r["migration_s"]  # for as long as the emulator took to move it
    assert r["pdm"] == pytest.approx(lost / requested, rel=0.1)  # measured in 0.5 s ticks


def test_ram_as_cloudsim_has_it_bounds_only_the_first_placement() -> None:
    # eight quiet VMs: in 4 GiB hosts at most five fit on one; with RAM and vCPUs to
    # spare, as in CloudSim's examples, the balancer packs them tighter (on fewer hosts)
    quiet = [[5] * 6 for _ in range(8)]
    strict = fleet_engine.run_fleet(quiet, 6, threshold=3)
    spare = fleet_engine.run_fleet(quiet, 6, threshold=3, ram="cloudsim")
    assert spare["refused"] == 0 and spare["failed"] == 0
    assert spare["migrations"] > strict["migrations"]
    assert spare["energy_kwh"] < strict["energy_kwh"]


def test_the_comparison_prints_both_engines_on_the_same_traces(
    capsys: pytest.CaptureFixture[str],
) -> None:
    day = [[30, 40, 50, 60, 50, 40], [20, 20, 30, 30, 20, 20], [10, 80, 90, 10, 10, 10],
           [50, 50, 50, 50, 50, 50], [5, 10, 5, 10, 5, 10], [90, 90, 90, 90, 90, 90],
           [40, 30, 20, 10, 20, 30], [10, 10, 0, 0, 0, 0]]  # fmt: skip
    fleet_engine.compare(day, 6, threshold=3, window=3)
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith("| replay") or "| fleet" in line]
    assert len(rows) == 3  # the replay with its predictor and the console's, and the fleet
    assert "Why they differ" in out and "fleet, balancer 3 (the console's): " in out


def test_subsets_keep_a_run_short() -> None:
    day = [[float(k)] * 288 for k in range(12)]
    picked = replay.variant(day, vms=4, hours=2)
    assert [t[0] for t in picked] == [0, 3, 6, 9] and len(picked[0]) == 2 * 12 + 1
    with pytest.raises(ValueError, match="give 1 to 12 VMs"):
        replay.variant(day, vms=13)
