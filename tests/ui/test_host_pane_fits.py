"""The host pane is laid out for its width: no line is wrapped by the terminal where it
happens to end (a figure cut in two, its rest at the left edge under the labels); a long
figure goes on to the next line under its own column, broken between phrases."""

from __future__ import annotations

import pytest
from rich.cells import cell_len
from textual.widgets import Static

from tests.ui.conftest import MakeApp, settle
from tests.ui.test_details import open_host
from tests.ui.test_truths import RACK, a_host
from vdctui.model import CpuContention
from vdctui.ops.placement import Allocation
from vdctui.ui.screens.host_detail import LABEL, host_detail


@pytest.mark.parametrize("size", [(100, 30), (160, 48), (80, 24)])
async def test_no_line_of_the_host_pane_wraps(make_app: MakeApp, size: tuple[int, int]) -> None:
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        host = app.ops.hosts()[0].name
        screen = await open_host(pilot, host)
        detail = screen.query_one("#detail", Static)
        lines = str(detail.render()).split("\n")
        assert any(line.startswith("CPU pool") for line in lines)
        too_long = [line for line in lines if cell_len(line) > detail.size.width]
        assert not too_long, f"wider than the pane ({detail.size.width}): {too_long}"
        assert detail.size.height == len(lines)  # nothing wrapped where it did not fit


def test_a_long_figure_goes_on_under_its_column_between_phrases() -> None:
    contention = CpuContention("rk1-h01", 4, 0, 124, 6.3, {})
    for width in range(40, 130, 3):
        shown = host_detail(
            a_host(),
            Allocation(vcpus=96, memory_mib=240 * 1024),
            maintenance=False,
            rack=RACK,
            rack_hosts=[a_host()],
            width=width,
            contention=contention,
        ).plain.split("\n")
        assert all(cell_len(line) <= width for line in shown), (width, shown)
        at = next(i for i, line in enumerate(shown) if line.startswith("CPU pool"))
        pool = [shown[at]]
        for line in shown[at + 1 :]:
            if not line.startswith(" " * LABEL):
                break
            pool.append(line)
        said = " ".join(line.strip() for line in pool)[len("CPU pool") :].split()
        assert " ".join(said).endswith(
            "shared 124 CPUs, wanted 6.3 (0.1x): no VM waits; dedicated 0, reserved 4"
        ), (width, pool)
        for line in pool[1:]:  # each continuation begins a phrase, not the middle of one
            assert not line.strip().startswith(("waits", "CPUs", "0,", "4")), (width, pool)
