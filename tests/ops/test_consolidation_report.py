"""The consolidation benchmark's comparison with CloudSim's published figures
(bench/_report.py): read from the traces' README, differences and the energy goal."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

_path = Path(__file__).resolve().parents[2] / "bench" / "_report.py"
_spec = importlib.util.spec_from_file_location("_report", _path)
assert _spec and _spec.loader
report = importlib.util.module_from_spec(_spec)
sys.modules["_report"] = report
_spec.loader.exec_module(report)

README = """
| policy | energy kWh | SLATAH | PDM | SLAV | ESV (energy x SLAV) | migrations |
|---|---|---|---|---|---|---|
| NPA (no power management) | 2410.80 | - | - | - | - | 0 |
| THR-MMT-0.8 | 192.62 | 4.91% | 0.06% | 0.00318% | 0.00613 | 26,711 |
| IQR-MMT-1.5 | 189.98 | 4.82% | 0.06% | 0.00301% | 0.00572 | 26,282 |
"""


def test_cloudsims_rows_are_read_with_pdm_from_the_unrounded_slav() -> None:
    rows = report.parse_reference(README)
    assert sorted(rows) == ["IQR-MMT-1.5", "THR-MMT-0.8"]  # NPA has no SLA figures
    thr = rows["THR-MMT-0.8"]
    assert thr.energy_kwh == 192.62 and thr.migrations == 26711
    assert thr.slatah == pytest.approx(0.0491)
    assert thr.slav == pytest.approx(0.0000318)
    assert thr.esv == pytest.approx(0.00613, rel=1e-2)
    assert report.best_esv(rows)[0] == "IQR-MMT-1.5"


def test_a_figure_outside_the_tolerance_is_named() -> None:
    theirs = report.Figures(100.0, 0.05, 0.001, 1000)
    close = report.Figures(104.9, 0.05, 0.00109, 1049)
    assert report.misses(close, theirs) == []
    far = report.Figures(106.0, 0.05, 0.0012, 900)
    assert report.misses(far, theirs) == ["energy_kwh", "migrations", "slav"]
    assert "MISSES energy_kwh, migrations, slav" in report.row("x", far, theirs)
    assert "(100.00, +6.0%)" in report.row("x", far, theirs)


def test_the_energy_goal_needs_all_three_parts() -> None:
    best = report.Figures(190.0, 0.05, 0.0006, 26000)
    lines = report.goal(report.Figures(180.0, 0.02, 0.0004, 13000), best)
    assert [line.endswith("yes") for line in lines] == [True, True, True]
    lines = report.goal(report.Figures(191.0, 0.02, 0.0006, 14000), best)
    assert [line.endswith("yes") for line in lines] == [False, False, False]
