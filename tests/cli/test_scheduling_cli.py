from __future__ import annotations

from collections.abc import Iterator

from tests.cli.conftest import Vdctui


def _plans(vdctui: Vdctui) -> Iterator[tuple[str, dict]]:  # type: ignore[type-arg]
    for host in sorted(h["name"] for h in vdctui.json("host", "list")):
        yield host, vdctui.json("host", "maintenance", host, "--plan")[0]


def test_maintenance_plan_then_enter_then_exit(vdctui: Vdctui) -> None:
    movable = [(h, p) for h, p in _plans(vdctui) if p["moves"] and not p["stuck"]]
    # the quickest evacuation: the CLI's emulated fleet runs on the wall clock
    host, plan = min(movable, key=lambda hp: sum(m["estimated_seconds"] for m in hp[1]["moves"]))
    text = vdctui("host", "maintenance", host, "--plan")
    assert text.exit_code == 0 and plan["moves"][0]["vm"] in text.output
    assert vdctui.json("task", "list") == []  # the plan did nothing
    result = vdctui("host", "maintenance", host)  # not a terminal, no --yes: refused
    assert result.exit_code == 1 and "--yes" in result.output
    result = vdctui("host", "maintenance", host, "--yes", "--max-total", "3")
    assert result.exit_code == 0, result.output
    assert f"Host {host} is in maintenance" in result.output
    assert [v for v in vdctui.json("vm", "list") if v["host"] == host] == []
    result = vdctui("host", "maintenance", host, "--exit")
    assert result.exit_code == 0 and "back in service" in result.output


def test_maintenance_names_the_vms_that_cannot_move(vdctui: Vdctui) -> None:
    host, plan = next((h, p) for h, p in _plans(vdctui) if p["stuck"])
    result = vdctui("host", "maintenance", host, "--yes")
    assert result.exit_code == 1
    assert plan["stuck"][0]["vm"] in result.output and "cannot enter maintenance" in result.output
    assert vdctui.json("task", "list") == []
