"""`vdctui host add` and `vdctui host remove` on the embedded data center."""

from __future__ import annotations

import emulator
from tests.cli.conftest import Vdctui
from tests.conftest import keep_running_vms_busy
from vdctui.backend import fleet_path


def test_add_shows_the_moves_onto_the_new_host_and_apply_carries_them_out(vdctui: Vdctui) -> None:
    # busy whatever the hour: at a quiet hour of the demo's day there is nothing to spread
    fleet_file = emulator.FleetFile(fleet_path(vdctui.db))
    fleet = fleet_file.load()
    keep_running_vms_busy(fleet, 0.75)
    fleet_file.save(fleet, full=True)
    fleet_file.close()
    result = vdctui("host", "add", "--rack", "rk1", "--model", "r650-2x16c-256g")
    assert result.exit_code == 0, result.output
    assert "Host rk1-h09 (r650-2x16c-256g) joined rack rk1: up, empty." in result.stdout
    assert "onto the new host(s); load spread" in result.stdout
    hosts = {h["name"]: h for h in vdctui.json("host", "list")}
    assert hosts["rk1-h09"]["state"] == "up" and hosts["rk1-h09"]["vm_count"] == 0
    result = vdctui("host", "add", "--rack", "rk1", "--apply", "--yes")
    assert result.exit_code == 0, result.output
    assert "Host rk1-h10 (r650-2x16c-256g) joined rack rk1: up, empty." in result.stdout
    moved = [line for line in result.stdout.splitlines() if line.endswith(": succeeded")]
    assert moved, result.stdout
    assert vdctui.json("vm", "list", "--host", "rk1-h09")


def test_a_full_rack_a_busy_host_and_a_viewer_are_refused(vdctui: Vdctui) -> None:
    result = vdctui("host", "add", "--rack", "rk1", "--count", "40")
    assert result.exit_code == 1
    assert "rk1-h27; then: Host not added: rack rk1's power budget (12 kW) leaves" in result.stderr
    result = vdctui("host", "remove", "rk1-h01")
    assert result.exit_code == 1 and "Host rk1-h01 still holds" in result.stderr
    result = vdctui("host", "remove", "rk1-h09", read_only=True)
    assert result.exit_code == 1 and "viewer" in result.stderr.lower()
    result = vdctui("host", "remove", "rk1-h09")
    assert result.exit_code == 0, result.output
    assert "rk1-h09" not in {h["name"] for h in vdctui.json("host", "list")}
