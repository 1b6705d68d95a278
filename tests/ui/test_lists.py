"""The VMs list as an operator drives it: paging, marks, sorting."""

from __future__ import annotations

from dataclasses import replace

import pytest
from textual.pilot import Pilot
from textual.widgets import Static

from tests.ui.conftest import SIZE, MakeApp, fleet_of, notes, settle
from vdctui.ui.app import VdcApp
from vdctui.ui.screens.vms import VmsScreen


async def open_vms(pilot: Pilot[None], query: str = "") -> VmsScreen:
    await settle(pilot)
    await pilot.press("2")
    if query:
        await pilot.press("slash", *query, "enter")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, VmsScreen)
    return screen


def status(app: VdcApp) -> str:
    return str(app.screen.query_one("#vm-status", Static).render())


def under_cursor(screen: VmsScreen) -> str:
    vm = screen.current()
    assert vm is not None
    return vm.name


async def test_page_down_and_up_move_a_page(make_app: MakeApp) -> None:
    app = make_app(vms=120)
    async with app.run_test(size=(120, 20)) as pilot:
        screen = await open_vms(pilot)
        rows = len(screen._page)
        assert 5 < rows < 60
        names = sorted(fleet_of(app).vms)
        await pilot.press("pagedown")
        await settle(pilot)
        assert screen.first_row == rows
        assert under_cursor(screen) == names[rows]
        assert f"VMs {rows + 1}-{2 * rows}" in status(app)
        await pilot.press("down", "down", "pagedown")
        await settle(pilot)
        assert under_cursor(screen) == names[2 * rows + 2]
        await pilot.press("pageup")
        await settle(pilot)
        assert under_cursor(screen) == names[rows + 2]
        await pilot.press("pageup", "pageup")
        await settle(pilot)
        assert screen.first_row == 0 and under_cursor(screen) == names[0]
        await pilot.press("end")
        await settle(pilot)
        assert under_cursor(screen) == names[-1]
        await pilot.press("pagedown")  # at the bottom: stays
        await settle(pilot)
        assert under_cursor(screen) == names[-1]
        await pilot.press("home")
        await settle(pilot)
        assert screen.first_row == 0 and under_cursor(screen) == names[0]


async def test_marks_hidden_by_the_filter_are_counted_and_left_alone(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_vms(pilot, "state:shutoff")
        stopped = [vm.name for vm in screen._page[:2]]
        await pilot.press("space", "space")
        await pilot.press("slash", *["backspace"] * 20, *"state:running", "enter")
        await settle(pilot)
        running = under_cursor(screen)
        await pilot.press("space")
        await settle(pilot)
        assert "3 marked" in status(app) and "2 hidden by the filter" in status(app)
        assert screen.targets() == [running]
        await pilot.press("x")  # stop: asks about the VM the operator can see, says the rest
        await settle(pilot)
        assert running in app.screen.question.title  # type: ignore[attr-defined]
        assert any("2 marked VMs hidden by the filter are left alone" in n for n in notes(app))
        await pilot.press("escape")
        await settle(pilot)
        assert all(fleet_of(app).vms[name].state == "shut off" for name in stopped)
        await pilot.press("u")  # unmark all
        await settle(pilot)
        assert not screen.marked and "marked" not in status(app)


async def test_all_marks_hidden_acts_on_nothing(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_vms(pilot, "state:shutoff")
        await pilot.press("space")
        await pilot.press("slash", *["backspace"] * 20, *"state:running", "enter")
        await settle(pilot)
        assert screen.targets() == []
        await pilot.press("m")
        await settle(pilot)
        assert app.screen is screen  # no dialog: nothing the operator can see is marked


@pytest.mark.parametrize("size", [SIZE, (120, 20)])  # the VM stays on the page, or leaves it
async def test_a_live_sort_keeps_the_cursor_on_its_vm(
    make_app: MakeApp, size: tuple[int, int]
) -> None:
    app = make_app(vms=80)
    async with app.run_test(size=size) as pilot:
        screen = await open_vms(pilot, "state:running")
        screen._sort_by("cpu_util")
        await pilot.press("pagedown", "down", "down", "down")
        await settle(pilot)
        name = under_cursor(screen)
        vm = app.ops.vm(name)
        app.ops.store.upsert_vms([replace(vm, cpu_util=0.0)])  # as a sync would see it
        screen.refresh_data()
        assert screen._page[0].name == name  # it moved to the top of the list ...
        assert under_cursor(screen) == name  # ... and the cursor went with it
        await pilot.press("space")
        assert screen.marked == {name}


async def test_sort_key_reverses_and_names_the_column(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_vms(pilot)
        await pilot.press("o")
        await settle(pilot)
        assert "sorted by state ▲" in status(app)
        for _ in range(4):
            await pilot.press("o")
        await settle(pilot)
        assert "sorted by memory ▲" in status(app) and "memory_mib" not in status(app)
        first = screen._page[0]
        await pilot.press("O")
        await settle(pilot)
        assert "sorted by memory ▼" in status(app)
        assert screen._page[0].memory_mib >= first.memory_mib
        assert screen.descending
        assert "MEMORY ▼" in screen.table.headers_shown()
