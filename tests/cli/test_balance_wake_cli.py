"""`vdctui balance --goal power --apply`: hosts it emptied are powered off, and powered on
again by a later run when load rises (never a host an operator powered off)."""

from __future__ import annotations

from pathlib import Path

import emulator
from tests.cli.conftest import Vdctui
from tests.conftest import keep_running_vms_busy
from tests.ops.test_balancer_wake import small_fleet
from vdctui.backend import fleet_path


def _fleet_file(db: Path) -> emulator.FleetFile:
    return emulator.FleetFile(fleet_path(db))


def _load_rises(db: Path) -> None:
    fleet_file = _fleet_file(db)
    fleet = fleet_file.load()
    keep_running_vms_busy(fleet, 0.9)
    fleet_file.save(fleet, full=True)
    fleet_file.close()


def _states(vdctui: Vdctui) -> dict[str, str]:
    return {h["name"]: h["state"] for h in vdctui.json("host", "list")}


def test_balance_powers_emptied_hosts_off_and_wakes_them_when_load_rises(tmp_path: Path) -> None:
    db = tmp_path / "vdctui.db"
    fleet_file = _fleet_file(db)
    fleet_file.save(small_fleet(), full=True)
    fleet_file.close()
    vdctui = Vdctui(db)
    quiet = vdctui("balance", "--goal", "power", "--apply", "--yes")
    assert quiet.exit_code == 0, quiet.output
    off = {h for h, state in _states(vdctui).items() if state == "off"}
    assert len(off) == 3 and all(f"{h} powered off (balancer)" in quiet.stdout for h in off)
    # one of them is taken by an operator: powered on and off by hand, never woken
    taken = sorted(off)[0]
    assert vdctui("host", "power", "on", taken, "--yes").exit_code == 0
    assert vdctui("host", "power", "off", taken, "--yes").exit_code == 0

    _load_rises(db)
    shown = vdctui("balance", "--goal", "power")
    assert shown.exit_code == 0, shown.output
    [first] = [line for line in shown.stdout.splitlines() if line.startswith("first power on")]
    woken = set(first.split(": ", 1)[1].split(", "))
    assert woken and woken <= off - {taken}, shown.stdout
    applied = vdctui("balance", "--goal", "power", "--apply", "--yes")
    assert applied.exit_code == 0, applied.output
    lines = applied.stdout.splitlines()
    for host in woken:
        waited = lines.index(f"{host}: power on requested; waiting for it to answer")
        answered = lines.index(f"{host} powered on (balancer) and answers")
        first_move = min(i for i, line in enumerate(lines) if f" -> {host}: " in line)
        assert waited < answered < first_move  # up and answering before any move onto it
        assert vdctui.json("vm", "list", "--host", host)
    states = _states(vdctui)
    assert all(states[h] == "up" for h in woken) and states[taken] == "off"
    wakes = vdctui.json("audit", "list", "--action", "host.power-on")
    assert sorted(r["target"] for r in wakes if r["params"] == {"reason": "balancer-wake"}) == (
        sorted(woken)
    )
