"""Security groups through the door, applied to the emulator's flows: allowed and dropped
counts per VM and per rule, remote groups, quarantine, refusals with no side effect."""

from __future__ import annotations

import pytest

import emulator
from vdctui.drivers.emulated import EmulatedDriver
from vdctui.model import Role
from vdctui.ops import Console, Failed, Identity, Refused
from vdctui.ops import secgroups as sg


def running(fleet: emulator.Fleet, pool: str) -> list[str]:
    return sorted(n for n, v in fleet.vms.items() if v.pool == pool and v.state == "running")


async def minutes(console: Console, n: int) -> None:
    driver = console.driver
    assert isinstance(driver, EmulatedDriver)
    await driver.advance(60.0 * n)


async def test_rules_let_web_in_on_443_and_to_db_by_group_and_drop_the_rest(
    console: Console, fleet: emulator.Fleet
) -> None:
    web, dbs = running(fleet, "web"), running(fleet, "db")
    assert web and dbs
    await sg.create(console, "web")
    await sg.create(console, "db")
    https = await sg.add_rule(console, "web", "ingress", "tcp", "443", "0.0.0.0/0")
    to_db = await sg.add_rule(console, "web", "egress", "tcp", "5432", "group:db")
    from_web = await sg.add_rule(console, "db", "ingress", "tcp", "5432", "group:web")
    for vm in web:
        await sg.attach(console, "web", vm)
    for vm in dbs:
        await sg.attach(console, "db", vm)
    await minutes(console, 30)
    counts = await console.driver.flow_counts()
    assert counts.by_rule.get(https, 0) > 0
    assert counts.by_rule.get(to_db, 0) > 0 and counts.by_rule.get(from_web, 0) > 0
    assert sum(counts.allowed.get(vm, 0) for vm in web) > 0
    # batch VMs talk to db too, but no rule of db lets them in
    batch_to_db = [
        r
        for r in await console.driver.flow_records(0.0)
        if r.dst_vm in dbs and r.src_vm and fleet.vms[r.src_vm].pool == "batch"
    ]
    if batch_to_db:
        assert not any(r.allowed for r in batch_to_db)
        assert sum(counts.dropped.get(vm, 0) for vm in dbs) > 0
    firewall = fleet.firewall(web[0])
    assert firewall is not None and firewall["groups"] == ["web"]
    actions = [r.action for r in console.store.audit(limit=50)]
    assert "secgroup.rule.add" in actions and "secgroup.attach" in actions


async def test_quarantine_drops_everything_whatever_other_groups_allow(
    console: Console, fleet: emulator.Fleet
) -> None:
    vm = running(fleet, "web")[0]
    await sg.create(console, "open")
    await sg.add_rule(console, "open", "ingress", "any", None, "0.0.0.0/0")
    await sg.attach(console, "open", vm)
    await minutes(console, 5)
    before = await console.driver.flow_counts()
    await sg.quarantine(console, vm, "test")
    await minutes(console, 10)
    after = await console.driver.flow_counts()
    assert after.allowed.get(vm, 0) == before.allowed.get(vm, 0)
    assert after.dropped.get(vm, 0) > before.dropped.get(vm, 0)
    assert console.store.audit(action="vm.quarantine")[0].result == "ok"


async def test_bad_rules_and_roles_are_refused_with_no_side_effect(
    console: Console, fleet: emulator.Fleet, driver: EmulatedDriver
) -> None:
    await sg.create(console, "g")
    for ports, remote, words in (
        ("70000", "0.0.0.0/0", "Ports are N or N-M"),
        ("22", "10.0.0.300/8", "IPv4 CIDR"),
        ("22", "group:nope", "no security group 'nope'"),
    ):
        with pytest.raises(Refused, match=words):
            await sg.add_rule(console, "g", "ingress", "tcp", ports, remote)
    assert console.store.secgroup("g").rules == ()  # type: ignore[union-attr]
    operator = Console(console.store, driver, Identity("bob", Role.OPERATOR))
    with pytest.raises(Refused):
        await sg.create(operator, "h")
    assert console.store.secgroup("h") is None
    viewer = Console(console.store, driver, Identity("eve", Role.VIEWER))
    with pytest.raises(Refused):
        await sg.attach(viewer, "g", running(fleet, "web")[0])
    assert console.store.secgroup("g").members == ()  # type: ignore[union-attr]
    refused = [r for r in console.store.audit(result="refused") if r.action.startswith("secgroup")]
    assert len(refused) == 5


async def test_delete_is_refused_while_in_use_and_with_detach_takes_everything_along(
    console: Console, fleet: emulator.Fleet
) -> None:
    web, dbs = running(fleet, "web"), running(fleet, "db")
    await sg.create(console, "app")
    await sg.create(console, "db")
    own = await sg.add_rule(console, "app", "ingress", "tcp", "443", "0.0.0.0/0")
    naming = await sg.add_rule(console, "db", "ingress", "tcp", "5432", "group:app")
    kept = await sg.add_rule(console, "db", "ingress", "tcp", "22", "10.0.0.0/8")
    await sg.attach(console, "app", web[0])
    await sg.attach(console, "db", dbs[0])
    assert list(fleet.firewall(dbs[0])["rules"][0]["remote_vms"]) == [web[0]]  # type: ignore[index]
    assert await sg.refresh(console) == 1  # db's member: the only VM with a remote-group rule
    assert console.store.audit(action="secgroup.refresh")[0].result == "ok"

    with pytest.raises(Refused) as refused:
        await sg.delete(console, "app")
    said = str(refused.value)
    assert (
        said.count(".") == 1 and "attached to 1 VM(s)" in said and f"rule(s) {naming} of db" in said
    )
    assert "--detach" in said
    assert console.store.secgroup("app") is not None  # no side effect
    assert fleet.firewall(web[0])["groups"] == ["app"]  # type: ignore[index]
    assert console.store.audit(action="secgroup.delete")[0].result == "refused"

    await sg.delete(console, "app", detach=True)
    assert console.store.secgroup("app") is None
    assert [r.id for r in console.store.secgroup("db").rules] == [kept]  # type: ignore[union-attr]
    assert console.store.secgroup_rule(own) is None and console.store.secgroup_rule(naming) is None
    assert fleet.firewall(web[0]) is None  # no groups left: not filtered
    assert [r["rule_id"] for r in fleet.firewall(dbs[0])["rules"]] == [kept]  # type: ignore[index]
    assert console.store.audit(action="secgroup.delete")[0].result == "ok"

    await sg.create(console, "empty")
    await sg.delete(console, "empty")  # not in use: no --detach needed
    assert console.store.secgroup("empty") is None
    with pytest.raises(Refused, match="There is no security group 'empty'"):
        await sg.delete(console, "empty")


async def test_a_delete_the_fleet_refuses_is_undone(
    console: Console, fleet: emulator.Fleet, monkeypatch: pytest.MonkeyPatch
) -> None:
    from vdctui.drivers.base import InvalidOperation

    web = running(fleet, "web")
    await sg.create(console, "app")
    await sg.create(console, "db")
    rule = await sg.add_rule(console, "app", "ingress", "tcp", "443", "0.0.0.0/0")
    naming = await sg.add_rule(console, "db", "ingress", "tcp", "5432", "group:app")
    await sg.attach(console, "app", web[0])

    async def refuse(group: str) -> None:
        raise InvalidOperation(f"nwfilter {group} is busy")

    monkeypatch.setattr(console.driver, "forget_firewall_group", refuse)
    with pytest.raises(Failed, match="was not applied: nwfilter app is busy"):
        await sg.delete(console, "app", detach=True)
    group = console.store.secgroup("app")
    assert group is not None and group.members == (web[0],)
    assert [r.id for r in group.rules] == [rule]
    assert console.store.secgroup_rule(naming) is not None
    assert fleet.firewall(web[0])["groups"] == ["app"]  # type: ignore[index]
