"""HAProxy in front of lab VMs (tests/lab/adc.py): the console drains a member, HAProxy's
own `show servers state` says so, and a host whose VM is a member is evacuated with the
member drained first and put back after. The guests run no OS: health checks are off."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.lab.adc import IP, LabAdc, adc_inventory, start_adc
from tests.lab.conftest import Guests, run_cli
from tests.lab.lab import Lab
from vdctui.drivers.adc.haproxy_state import parse_servers_state
from vdctui.model import MemberState

MEMBERS = ("shop-a", "shop-b")


@pytest.fixture
def adc(lab: Lab, tmp_path: Path) -> Iterator[LabAdc]:
    running = start_adc(lab, MEMBERS, lab.state / "adc")
    try:
        yield running
    finally:
        running.close()


def haproxy_says(adc: LabAdc) -> dict[str, MemberState]:
    return {s.server: s.state for s in parse_servers_state(adc.ask("show servers state shop"))}


def test_drain_a_member_and_evacuate_its_host(
    lab: Lab, lab_inventory: Path, guests: Guests, adc: LabAdc, tmp_path: Path
) -> None:
    guests.define(MEMBERS[0], 1)
    guests.define(MEMBERS[1], 2)
    inventory = adc_inventory(lab, lab_inventory, adc, tmp_path / "lab-adc.toml")
    db = tmp_path / "c.db"

    def cli(*args: str, timeout: float = 120) -> str:
        done = run_cli(inventory, db, *args, timeout=timeout)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    cli("service", "create", "shop", "--vip", IP, "--port", "80", "--check", "none")
    for name in MEMBERS:
        cli("service", "member", "add", "shop", name, "--port", "8080")
    assert haproxy_says(adc) == {MEMBERS[0]: MemberState.UP, MEMBERS[1]: MemberState.UP}
    cli("service", "drain", "shop", MEMBERS[0])
    assert haproxy_says(adc)[MEMBERS[0]] is MemberState.DRAIN  # HAProxy's own word
    [shop] = json.loads(cli("--json", "service", "list"))
    assert [m["state"] for m in shop["members"]] == ["drain", "up"]
    assert [m["healthy"] for m in shop["members"]] == [None, None]  # no check runs
    cli("service", "enable", "shop", MEMBERS[0])
    assert haproxy_says(adc)[MEMBERS[0]] is MemberState.UP
    cli("host", "maintenance", "labh1", "--drain", "--yes", timeout=300)
    assert [h for h, _ in guests.where(MEMBERS[0])] in ([2], [3])
    assert haproxy_says(adc)[MEMBERS[0]] is MemberState.UP  # back after the move
    audit = json.loads(cli("--json", "audit", "list", "--target", "shop"))
    steps = [(r["action"], r["params"].get("for", "")) for r in reversed(audit)]
    assert ("service.drain", "vm.migrate") in steps and steps[-1][0] == "service.enable"
    cli("host", "maintenance", "labh1", "--exit")
