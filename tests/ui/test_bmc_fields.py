"""What a host's BMC says (power state, health, watts) in the host list, tree and detail."""

from __future__ import annotations

from dataclasses import replace

from tests.ui.test_truths import a_host, detail
from vdctui.columns import HOST_COLUMNS
from vdctui.model import HostState
from vdctui.ops.placement import Allocation
from vdctui.ui.screens.host_detail import host_badges


def row(host: object) -> dict[str, str]:
    return {heading: str(get(host)) for heading, get in HOST_COLUMNS}


def test_the_host_list_shows_what_the_bmc_says_and_dashes_without_one() -> None:
    assert (row(a_host())["power"], row(a_host())["health"]) == ("—", "—")
    told = row(replace(a_host(), power_state="On", health="Warning"))
    assert (told["power"], told["health"], told["watts"]) == ("On", "Warning", "362")


def test_the_host_detail_compares_the_draw_with_the_rack_budget() -> None:
    shown = detail(replace(a_host(), power_state="On", health="OK"))
    assert "Host power  362 W, 2% of the rack's 15 kW" in shown
    assert "BMC         power On, health OK" in shown
    unknown = detail(a_host(power_watts=None))
    assert "Host power  —\n" in unknown and "BMC         power — (no BMC reading)" in unknown
    narrow = detail(replace(a_host(), power_state="PoweringOn", health="Critical"), width=52)
    assert all(len(line) <= 52 for line in narrow.splitlines()), narrow


def test_the_tree_says_a_silent_host_is_still_powered_and_a_sick_bmc() -> None:
    silent = replace(a_host(), state=HostState.UNREACHABLE, power_state="On")
    assert "unreachable BMC: On" in host_badges(silent, Allocation()).plain
    sick = replace(a_host(), power_state="On", health="Critical")
    assert host_badges(sick, Allocation()).plain.endswith("BMC Critical")
    assert "BMC" not in host_badges(replace(sick, health="OK"), Allocation()).plain
    escaped = replace(silent, power_state="On\x1b[31m")
    assert "\x1b" not in host_badges(escaped, Allocation()).plain
