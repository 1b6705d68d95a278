"""Hosts going off together are one notification, not one toast each: the balancer's
power-offs of one apply are summed up once it ends (`powered off 3 hosts: h1, h2, h3
(balancer)`); a host that goes off alone is still said on its own, with why."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from tests.ui.conftest import SIZE, command, fleet_of, settle
from tests.ui.test_balance_wake_ui import apply_balance, small_fleet_app
from tests.waiting import ENOUGH
from vdctui.ui.app import VdcApp
from vdctui.ui.host_toasts import host_summary


def listen(app: VdcApp) -> list[str]:
    """Every notification the app makes from now on (toasts expire: these stay)."""
    said: list[str] = []
    notify = app.notify

    def heard(message: str, **how: Any) -> None:
        said.append(str(message))
        notify(message, **how)

    app.notify = heard  # type: ignore[method-assign]
    return said


async def until_said(pilot: Pilot[None], said: list[str], words: str) -> list[str]:
    """`said`, once one of them says `words` (then the app settled: said all it would)."""
    deadline = time.monotonic() + ENOUGH
    while not any(words in note for note in said):
        assert time.monotonic() < deadline, f"never said {words!r}: {said}"
        await pilot.pause(0.05)
    await settle(pilot)
    return said


def about(host: str, said: list[str]) -> list[str]:
    """What was said of the host going off."""
    return [note for note in said if host in note and " off" in note]


def test_the_summary_names_a_few_hosts_and_counts_them_all() -> None:
    hosts = [f"h{i:02d}" for i in range(1, 12)]
    assert host_summary("off", hosts, "balancer") == (
        "powered off 11 hosts: h01, h02, h03, h04, h05, … (balancer)"
    )
    assert host_summary("off", ["h1", "h2"], "operator") == "powered off 2 hosts: h1, h2 (operator)"
    assert host_summary("off", ["h1", "h2"], "—") == "2 hosts went off: h1, h2 (why: —)"
    assert host_summary("up", ["h1", "h2", "h3"], "") == "3 hosts went up: h1, h2, h3"


async def test_the_balancers_power_offs_are_one_notification(tmp_path: Path) -> None:
    fleet, app = small_fleet_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        heard = listen(app)
        await apply_balance(pilot)
        off = sorted(h.name for h in fleet.hosts.values() if h.state == "off")
        assert len(off) == 3
        said = await until_said(pilot, heard, "powered off 3 hosts")
        summary = f"powered off 3 hosts: {', '.join(off)} (balancer)"
        assert [note for note in said if "powered off 3 hosts" in note] == [summary], said
        for host in off:  # no toast of its own, and not said again in the apply's outcome
            assert about(host, said) == [summary], (host, said)


async def test_a_host_that_goes_off_alone_is_said_with_why(make_app) -> None:  # type: ignore[no-untyped-def]
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        host = sorted(fleet_of(app).hosts)[0]
        heard = listen(app)
        await command(pilot, f"power {host} off force")
        await pilot.press("y")
        await settle(pilot)
        said = await until_said(pilot, heard, "(operator)")
        assert any(f"{host} went up -> off" in n and "(operator)" in n for n in said), said
