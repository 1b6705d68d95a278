"""Services in the emulator: requests spread over healthy members, drains, error bursts."""

from __future__ import annotations

import pytest

import emulator
from emulator.services import Service

GIB = 1 << 30


def web_fleet() -> tuple[emulator.Fleet, list[str]]:
    fleet = emulator.build_demo(seed=3, hosts=8, vms=40)
    members = sorted(
        n for n, v in fleet.vms.items() if v.state == "running" and n.startswith("web")
    )[:3]
    for n in members:  # a quiet baseline: the service's load is what moves
        v = fleet.vms[n]
        v.wl = emulator.parse_workload("constant:0.05")
        v.gen += 1
        fleet.set_vm_util(v, 0.05)
    fleet.define_service(
        Service(
            "shop", "10.0.0.10", 443, rate=300.0, members=[[n, 8080, 100, "ready"] for n in members]
        )
    )
    fleet.step(30)
    return fleet, members


def live(fleet: emulator.Fleet, vm: str) -> emulator.services.MemberLive:
    return fleet.services["shop"].live[f"{vm}:8080"]


def test_requests_are_spread_by_weight_and_load_the_members() -> None:
    fleet, members = web_fleet()
    fleet.set_member_weight("shop", members[0], 8080, 200)
    fleet.step(10)
    rates = [live(fleet, n).req_s for n in members]
    assert rates == pytest.approx([150.0, 75.0, 75.0])
    assert live(fleet, members[0]).sessions == pytest.approx(1500.0)
    v = fleet.vms[members[0]]
    assert v.cpu_util == pytest.approx(0.05 + 150 * 0.002 / v.vcpus)
    assert fleet.services["shop"].failed == 0


def test_a_drained_member_finishes_its_sessions_without_a_failure() -> None:
    fleet, members = web_fleet()
    fleet.set_member_admin("shop", members[0], 8080, "drain")
    fleet.step(5)
    assert 0 < live(fleet, members[0]).sessions < 1000
    assert live(fleet, members[1]).req_s == pytest.approx(150.0)
    fleet.step(120)
    assert live(fleet, members[0]).sessions == 0
    fleet.destroy_vm(members[0])
    fleet.step(30)
    assert fleet.services["shop"].failed == 0


def test_a_member_stopped_without_draining_fails_its_sessions_and_requests() -> None:
    fleet, members = web_fleet()
    fleet.destroy_vm(members[0])
    fleet.step(30)
    service = fleet.services["shop"]
    # its 1000 sessions, and 100 req/s for the 3 x 2 s the health check takes
    assert service.failed == pytest.approx(1000 + 100 * 6)
    assert live(fleet, members[0]).lb_up is False
    assert live(fleet, members[1]).req_s == pytest.approx(150.0)
    assert service.error_rate > 0


def test_a_live_migration_pause_is_a_small_error_burst() -> None:
    fleet, members = web_fleet()
    vm = fleet.vms[members[0]]
    target = next(
        h
        for h in sorted(fleet.hosts)
        if h != vm.host
        and vm.datastore in fleet.host_datastores(h)
        and fleet.memory_free_mib(h) >= vm.memory_mib
    )
    fleet.migrate(members[0], target)
    fleet.step(120)
    m = fleet.finished_migrations[-1]
    assert m.state == "completed" and m.downtime_ms > 0
    assert fleet.services["shop"].failed == pytest.approx(100 * m.downtime_ms / 1000)
    assert live(fleet, members[0]).sessions == pytest.approx(1000.0)


def test_no_member_left_fails_everything() -> None:
    fleet, members = web_fleet()
    for n in members:
        fleet.set_member_admin("shop", n, 8080, "maint")
    before = fleet.services["shop"].failed
    fleet.step(10)
    assert fleet.services["shop"].failed - before == pytest.approx(3000.0)


def test_services_survive_a_save(tmp_path) -> None:  # type: ignore[no-untyped-def]
    fleet, members = web_fleet()
    fleet.set_member_admin("shop", members[1], 8080, "drain")
    emulator.FleetFile(tmp_path / "f.db").save(fleet, full=True)
    again = emulator.FleetFile(tmp_path / "f.db").load()
    service = again.services["shop"]
    assert service.member(members[1], 8080) == [members[1], 8080, 100, "drain"]
    assert service.requests == fleet.services["shop"].requests


def test_the_rate_can_follow_a_trace() -> None:
    fleet, members = web_fleet()
    service = fleet.services["shop"]
    service.trace = "diurnal"  # the demo's day: 0.15 at night, 0.70 at noon
    hour = int(fleet.now // 3600) % 24
    expected = 300.0 * fleet.traces["diurnal"].values[hour]
    assert fleet.rate_now(service) == pytest.approx(expected)
    before = service.requests
    fleet.step(10)
    assert service.requests - before == pytest.approx(expected * 10)
    assert live(fleet, members[0]).req_s == pytest.approx(expected / 3)
