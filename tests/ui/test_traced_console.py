"""The console on a data center replaying a day of PlanetLab-style traces (`vdctui console
--traces DIR`): the VMs' load is their traces', `:speed 300` plays the day in minutes, and
the balancer recommends moves as the load changes."""

from __future__ import annotations

from pathlib import Path

from emulator.traced import read_day
from tests.traced_day import random_day
from tests.ui.conftest import SIZE, command, fleet_of, settle
from tests.ui.test_shared_fleet import connected
from vdctui.cli.traces import traced_size
from vdctui.ui.dialogs import ConfirmDialog
from vdctui.ui.launch import console_app

INTERVAL_S = 300.0


async def test_the_console_replays_a_day_and_the_balancer_follows_it(tmp_path: Path) -> None:
    day = read_day(random_day(tmp_path / "day", 24, seed=5))
    app = console_app(tmp_path / "vdctui.db", size=traced_size(day, None, None, 0))
    async with app.run_test(size=SIZE) as pilot:
        await connected(app, pilot)
        await settle(pilot)
        header = str(app.screen.header.render())
        assert "hosts " in header and "/19 up" in header and "VMs 24/24 running" in header
        await command(pilot, "speed 300")
        assert app.clock is not None and app.clock.speed == 300
        fleet = fleet_of(app)
        vm = fleet.vms["pl-0001"]
        assert vm.mips == 2500 and vm.workload == f"trace:{day.names[0]}"
        # the day goes on, a trace sample at a time, until the load asks for moves
        for _ in range(len(day.values[0])):
            fleet.step(INTERVAL_S)
            index = int(fleet.now // INTERVAL_S) % len(day.values[0])
            assert vm.level == day.values[0][index]  # the trace's sample at this time of day
            await app.ops.sync()
            await command(pilot, "balance power 3")
            if isinstance(app.screen, ConfirmDialog):
                listed = "\n".join(str(line) for line in app.screen.question.body)
                if " -> " in listed:  # a move, not only the empty hosts' power-off
                    break
                assert listed.startswith("then power off: ")
                await pilot.press("n")
                await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, ConfirmDialog), "a day went by and the balancer moved nothing"
        listed = "\n".join(str(line) for line in dialog.question.body)
        assert "pl-" in listed and " -> " in listed
        await pilot.press("n")
        await settle(pilot)
