"""The emulated firewall is stateful: a reply within a connection the rules let open
passes without an inbound rule; the same packet unsolicited is dropped."""

from __future__ import annotations

import pytest

from emulator import Fleet
from emulator.errors import InvalidOperation as Refused
from emulator.flows import ESTABLISHED, IDLE_S, NEW
from tests.emulator.conftest import add_vm

OUTSIDE = "198.51.100.7"


def rule(rule_id: int, direction: str, port: int, cidr: str = "0.0.0.0/0") -> dict[str, object]:
    return {
        "rule_id": rule_id,
        "group": "g",
        "direction": direction,
        "protocol": "tcp",
        "port_min": port,
        "port_max": port,
        "remote_cidr": cidr,
        "remote_vms": (),
    }


@pytest.fixture
def egress_only(fleet: Fleet) -> Fleet:
    """vm1 may open connections to port 443 anywhere; no ingress rule at all."""
    add_vm(fleet, "vm1")
    fleet.set_firewall("vm1", ["g"], [rule(1, "egress", 443)])
    return fleet


def test_a_reply_passes_without_an_inbound_rule(egress_only: Fleet) -> None:
    fleet = egress_only
    out = fleet.send("vm1", OUTSIDE, "tcp", 443)
    assert out.allowed and out.state == NEW
    fleet.step(30.0)
    back = fleet.send(OUTSIDE, "vm1", "tcp", 443)  # the server answers on its port
    assert back.allowed and back.state == ESTABLISHED
    assert fleet.flow_counts()[2] == {1: 1}  # the reply needed no rule


def test_an_unsolicited_inbound_is_dropped(egress_only: Fleet) -> None:
    fleet = egress_only
    unsolicited = fleet.send(OUTSIDE, "vm1", "tcp", 443)  # looks like a reply: none opened
    assert not unsolicited.allowed and unsolicited.state == NEW
    fleet.send("vm1", OUTSIDE, "tcp", 443)
    other = fleet.send("203.0.113.9", "vm1", "tcp", 443)  # not the address it talked to
    ssh = fleet.send(OUTSIDE, "vm1", "tcp", 22)  # nor the port
    assert not other.allowed and not ssh.allowed
    assert fleet.flow_counts()[1]["vm1"] == 3


def test_a_dropped_attempt_opens_nothing_and_idle_connections_are_forgotten(
    egress_only: Fleet,
) -> None:
    fleet = egress_only
    assert not fleet.send("vm1", OUTSIDE, "tcp", 80).allowed  # no egress rule for 80
    assert not fleet.send(OUTSIDE, "vm1", "tcp", 80).allowed
    fleet.send("vm1", OUTSIDE, "tcp", 443)
    fleet.step(IDLE_S + 60.0)
    assert not fleet.send(OUTSIDE, "vm1", "tcp", 443).allowed  # idle too long: gone


def test_connections_between_vms_and_bad_flows(fleet: Fleet) -> None:
    add_vm(fleet, "web", "ra1")
    add_vm(fleet, "db", "ra2")
    fleet.set_firewall("web", ["g"], [rule(1, "egress", 5432)])
    fleet.set_firewall("db", ["g"], [rule(2, "ingress", 5432, "10.0.0.0/8")])
    assert fleet.send("web", "db", "tcp", 5432).allowed
    back = fleet.send("db", "web", "tcp", 5432)
    assert back.allowed and back.state == ESTABLISHED
    assert not fleet.send("db", "web", "tcp", 22).allowed  # db opening its own: no rule
    with pytest.raises(Refused):
        fleet.send("nope", "web", "tcp", 1)
    with pytest.raises(Refused):
        fleet.send("web", "db", "tcp", 70000)
