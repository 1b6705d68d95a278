"""The header never loses the words that say you cannot change anything, or that what you
see is stale: with the counts of a 10,000-host / 100,000-VM fleet at 100 and 80 columns,
READ-ONLY, STALE (with its age), the figures' age, ALERTS and the running tasks stay on
the line, and the time of day, the labels, `[emulated]` and the counts' long form go
first. The header's inputs are the big fleet's, set on a small console (a 100,000-VM
fleet is too heavy for a test)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from textual.pilot import Pilot
from textual.widgets import Static

from tests.ops.test_sync_changes import incremental  # noqa: F401 - the fixture
from tests.ui.conftest import command, fleet_of, settle
from tests.ui.test_figures_decided_on_ui import figures_42s_behind
from vdctui.model import Role
from vdctui.ops import intrusion
from vdctui.ops.figures import FiguresAge
from vdctui.ops.reads import FleetCounts
from vdctui.ui.app import VdcApp
from vdctui.ui.widgets.fitting import fitted, part
from vdctui.ui.widgets.header import FleetHeader

MakeApp = Callable[..., VdcApp]
BIG = FleetCounts(hosts=10_000, hosts_up=9_990, vms=100_000, running=99_990, tasks_running=37)


def drawn(header: FleetHeader) -> str:
    """The header's line as the terminal shows it (cropped at the screen's edge)."""
    return "".join(segment.text for segment in header.render_line(0)).strip()


async def header_of_a_big_fleet(
    app: VdcApp,
    pilot: Pilot[None],
    monkeypatch: pytest.MonkeyPatch,
    *,
    stale: bool,
    figures_behind: bool = True,
    alerts: int = 12,
) -> FleetHeader:
    """The header with a big fleet's counts, 250 hosts in maintenance, `alerts` alerts
    and, as asked, the last sync 65 s ago and failing, and the figures 130 s old."""
    app._next_sync = float("inf")  # no sync of the small fleet overwrites what is set here
    app.data_center = "frankfurt-east-2"
    now = app._wall_clock()
    states_at = now - 65 if stale else now
    monkeypatch.setattr(app.ops, "counts", lambda: BIG)
    monkeypatch.setattr(app.ops, "hosts_in_maintenance", lambda: {f"h{i}" for i in range(250)})
    monkeypatch.setattr(app.ops, "figures_age", lambda: FiguresAge(now - 130, states_at))
    if not figures_behind:
        monkeypatch.setattr(app.ops, "figures_age", lambda: FiguresAge(states_at, states_at))
    monkeypatch.setattr(intrusion, "alerts", lambda console, state=None: [object()] * alerts)
    app.synced_at = states_at
    app.sync_error = "ssh: host-0042.frankfurt-east-2 refused the connection" if stale else None
    screen = app.fleet_screen
    assert screen is not None
    app.update_header(screen.header)
    await settle(pilot)
    return screen.header


@pytest.mark.parametrize("size", [(100, 30), (80, 24)])
async def test_the_warnings_stay_on_the_line(
    make_app: MakeApp, monkeypatch: pytest.MonkeyPatch, size: tuple[int, int]
) -> None:
    app = make_app(role=Role.VIEWER)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        header = await header_of_a_big_fleet(app, pilot, monkeypatch, stale=True)
        line = header.render().plain
        assert len(line) <= header.size.width, line  # nothing cropped at the edge
        shown = drawn(header)
        assert shown == line.strip()
        for words in ("READ-ONLY", "STALE", "1m05s", "figures 2m10s old", "ALERTS 12", "37"):
            assert words in shown, (words, shown)
        assert "tasks" in shown  # 37 of what


@pytest.mark.parametrize("size", [(100, 30), (80, 24)])
async def test_what_goes_first_is_the_less_important(
    make_app: MakeApp, monkeypatch: pytest.MonkeyPatch, size: tuple[int, int]
) -> None:
    """Synced just now, figures behind: the counts stay (short), the warnings stay."""
    app = make_app(role=Role.VIEWER)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        header = await header_of_a_big_fleet(app, pilot, monkeypatch, stale=False)
        line = header.render().plain
        assert len(line) <= header.size.width, line
        assert drawn(header) == line.strip()
        for words in ("READ-ONLY", "figures 2m10s old", "ALERTS 12", "tasks", "37"):
            assert words in line, (words, line)
        assert "[emulated]" not in line and "99,990" not in line  # went first
        if size[0] == 100:
            assert "hosts 9990/10000" in line and "VMs 99990/100000" in line  # exact, shorter
        else:  # the VMs' count went before the hosts' (what is down: red)
            assert "hosts 9990/10000" in line and "37 tasks" in line


async def test_at_160_columns_nothing_is_shortened(
    make_app: MakeApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        fleet_of(app)
        header = await header_of_a_big_fleet(
            app, pilot, monkeypatch, stale=False, figures_behind=False, alerts=0
        )
        line = header.render().plain
        assert len(line) <= header.size.width, line
        assert "[emulated]" in line
        assert "hosts 9990/10000 up (250 in maintenance)" in line
        assert "VMs 99,990/100,000 running" in line
        assert "tasks 37 running" in line and "synced " in line


def test_a_part_of_one_form_never_goes() -> None:
    """The fitting itself: shrink steps never take a part given one form; when even the
    shortest line is too wide, the parts named first lead it (the edge crops the rest)."""
    parts = {
        "clock": part("2026-12-01 11:00:00", "11:00:00", ""),
        "vms": part("VMs 99,990/100,000 running", "VMs 99990/100000", ""),
        "read_only": part("READ-ONLY"),
    }
    shrink = ("clock", "clock", "vms", "vms", "read_only")
    widths = {width: fitted(parts, shrink, width).plain for width in (80, 40, 30, 20, 5)}
    assert widths[80] == "2026-12-01 11:00:00  VMs 99,990/100,000 running  READ-ONLY"
    assert widths[40] == "VMs 99,990/100,000 running  READ-ONLY"
    assert widths[30] == "VMs 99990/100000  READ-ONLY"
    assert widths[20] == "READ-ONLY"
    crowded = {**parts, "alerts": part("ALERTS 12")}
    assert fitted(crowded, shrink, 12, first=("read_only",)).plain == "READ-ONLY  ALERTS 12"


@pytest.mark.parametrize("size", [(100, 30), (80, 24)])
async def test_the_vms_status_line_keeps_the_figures_age_and_the_marks(
    make_app: MakeApp,
    incremental: None,  # noqa: F811
    size: tuple[int, int],
) -> None:
    """A long filter, marks hidden by it and figures behind: the line (one row) keeps the
    figures' age and the marks, and shortens the filter, the sort and the hint first."""
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        for _ in range(3):
            await pilot.press("space")  # batch-001..003 marked
        await figures_42s_behind(app, pilot)  # batch-001 paused
        await command(pilot, "vms state:running pool:batch batch-00")
        status = app.screen.query_one("#vm-status", Static)
        line = status.render().plain  # type: ignore[union-attr]
        assert len(line) <= status.size.width, line
        for words in ("42s", "3 marked", "1 hidden", "filter:"):
            assert words in line, (words, line)
