"""The balancer's power goal both ways: it powers emptied hosts off, remembers them as its
own, and wakes only those when load rises (never a host an operator powered off, one a
fence cut, or one seen up since), as a step of the plan: power on, wait until it answers,
then the moves onto it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

import emulator
from tests.conftest import keep_running_vms_busy
from vdctui.drivers.emulated import EmulatedDriver
from vdctui.model import HostState, Role, TaskState
from vdctui.ops import Console, Identity, waking
from vdctui.ops.balancing import apply_moves, recommendations
from vdctui.ops.ha import fence
from vdctui.ops.power import power
from vdctui.store import Store


def small_fleet() -> emulator.Fleet:
    """Four 8-thread hosts on one shared datastore, two 2-vCPU VMs on each, quiet."""
    fleet = emulator.Fleet(seed=1)
    fleet.add_site("dc")
    fleet.add_room("room", "dc")
    fleet.add_rack("rk", "room")
    fleet.add_datastore("san", "shared", 10_000, room="room")
    fleet.add_network("prod", 100)
    for i in range(1, 5):
        fleet.add_host(
            f"h{i}", "rk", cores=4, threads=8, memory_mib=32768, reserved_cpus=0,
            reserved_memory_mib=0,
        )  # fmt: skip
        for k in (1, 2):
            name = f"vm{i}{k}"
            fleet.define_vm(
                name, f"h{i}", vcpus=2, memory_mib=1024, datastore="san", network="prod",
                workload="constant:0.05",
            )  # fmt: skip
            fleet.start_vm(name)
    keep_running_vms_busy(fleet, 0.05)
    return fleet


@pytest.fixture
def quiet_fleet() -> emulator.Fleet:
    return small_fleet()


@pytest.fixture
async def console(quiet_fleet: emulator.Fleet) -> AsyncIterator[Console]:
    driver = EmulatedDriver(quiet_fleet, speed=None, tick=0.5)
    console = Console(Store(":memory:"), driver, Identity("alice", Role.ADMIN))
    await console.sync()
    yield console
    await console.close()


async def consolidate(console: Console) -> set[str]:
    """Apply the power goal on the quiet fleet; the hosts the balancer powered off."""
    rec = recommendations(console, threshold=3, goal="power")
    applied = await apply_moves(console, rec)
    assert applied.done == applied.steps, applied.lines
    off = {h.name for h in console.hosts() if h.state is HostState.OFF}
    assert off == set(rec.power_off) and len(off) == 3
    return off


async def load_rises(console: Console, fleet: emulator.Fleet) -> None:
    keep_running_vms_busy(fleet, 0.9)
    await console.sync()


def audit(console: Console, action: str) -> list[tuple[str, str, dict[str, object], str]]:
    return [
        (r.target, r.result, r.params, r.error)
        for r in console.audit(action=action, limit=1000)
        if r.action == action
    ]


async def test_the_balancer_wakes_the_hosts_it_powered_off_when_load_rises(
    console: Console, quiet_fleet: emulator.Fleet
) -> None:
    off = await consolidate(console)
    offs = console.store.power_offs()
    assert {h: (o.by, o.actor) for h, o in offs.items()} == {h: ("balancer", "alice") for h in off}
    powered_off = [a for a in audit(console, "host.power-off") if a[0] in off]
    assert {(t, r) for t, r, *_ in powered_off} == {(h, "ok") for h in off}
    assert all(p == {"reason": "consolidation"} for _t, _r, p, _e in powered_off)

    await load_rises(console, quiet_fleet)
    rec = recommendations(console, threshold=3, goal="power")
    assert rec.power_on and set(rec.power_on) <= off
    onto = {m.vm: m.target for m in rec.moves if m.target in rec.power_on}
    assert onto, rec
    heard: list[str] = []
    applied = await apply_moves(console, rec, heard.append)
    assert applied.done == applied.steps, applied.lines
    for host in rec.power_on:
        assert quiet_fleet.hosts[host].state == "up"
        assert f"{host} powered on (balancer) and answers" in applied.lines
        assert f"{host}: power on requested; waiting for it to answer" in heard
        assert host not in console.store.power_offs()
    for vm, host in onto.items():  # the moves onto a woken host happened, after it woke
        assert quiet_fleet.vms[vm].host == host and quiet_fleet.vms[vm].state == "running"
    woke = [a for a in audit(console, "host.power-on") if a[0] in rec.power_on]
    assert {(t, r) for t, r, *_ in woke} == {(h, "ok") for h in rec.power_on}
    assert all(p == {"reason": "balancer-wake"} for _t, _r, p, _e in woke)
    [task] = [t for t in console.tasks() if t.kind == "balance"][:1]
    assert task.state is TaskState.SUCCEEDED and task.progress == 100.0


async def test_hosts_an_operator_or_a_fence_powered_off_are_never_woken(
    console: Console, quiet_fleet: emulator.Fleet
) -> None:
    by_operator, fenced, balancer_s = sorted(await consolidate(console))
    await power(console, by_operator, "on")
    await power(console, by_operator, "off")
    await power(console, fenced, "on")
    await fence(console, fenced)
    offs = console.store.power_offs()
    assert (offs[by_operator].by, offs[fenced].by, offs[balancer_s].by) == (
        "operator",
        "fence",
        "balancer",
    )
    await load_rises(console, quiet_fleet)
    assert waking.wakeable_hosts(console, console.hosts()) == {balancer_s}
    assert recommendations(console, threshold=3, goal="power").power_on == (balancer_s,)
    # the balancer's own host taken by an operator: overloaded, but nothing is woken
    await power(console, balancer_s, "on")
    await power(console, balancer_s, "off")
    await console.sync()
    rec = recommendations(console, threshold=3, goal="power")
    assert rec.power_on == ()
    assert not any(m.target in (by_operator, fenced, balancer_s) for m in rec.moves)
    why = waking.why_not_wakeable(console, fenced)
    assert why is not None and why.startswith(f"Host {fenced} was fenced")


async def test_a_host_seen_up_since_the_balancer_powered_it_off_is_not_woken(
    console: Console, quiet_fleet: emulator.Fleet
) -> None:
    off = await consolidate(console)
    host = sorted(off)[0]
    quiet_fleet.power_on_host(host)  # by other means (its power button)
    await console.sync()
    quiet_fleet.power_off_host(host)
    await console.sync()
    assert console.store.power_offs()[host].by == "balancer"
    assert host not in waking.wakeable_hosts(console, console.hosts())
    why = waking.why_not_wakeable(console, host)
    assert why is not None and "has answered since the balancer powered it off" in why


async def test_a_wake_the_balancer_may_no_longer_do_is_refused_in_one_sentence(
    console: Console, quiet_fleet: emulator.Fleet
) -> None:
    await consolidate(console)
    await load_rises(console, quiet_fleet)
    rec = recommendations(console, threshold=3, goal="power")
    host = rec.power_on[0]
    # meanwhile an operator powers it on and off: it is theirs now
    await power(console, host, "on")
    await power(console, host, "off")
    applied = await apply_moves(console, rec)
    said = f"Host {host} was powered off by alice, not by the balancer"
    assert any(line.startswith(f"{host} stays off: {said}") for line in applied.lines)
    assert any(line.endswith(f"not carried out: {host} did not power on") for line in applied.lines)
    assert quiet_fleet.hosts[host].state == "off"
    assert not [v for v in quiet_fleet.vms.values() if v.host == host and v.state == "running"]
    refused = [a for a in audit(console, "host.power-on") if a[1] == "refused"]
    assert [(t, p) for t, _r, p, _e in refused] == [(host, {"reason": "balancer-wake"})]
    assert refused[0][3].startswith(said) and refused[0][3].count(". ") == 0
    [task] = [t for t in console.tasks() if t.kind == "balance"][:1]
    assert task.state is TaskState.FAILED


async def test_a_woken_host_that_does_not_answer_gets_no_moves(
    console: Console, quiet_fleet: emulator.Fleet, monkeypatch: pytest.MonkeyPatch
) -> None:
    await consolidate(console)
    await load_rises(console, quiet_fleet)
    rec = recommendations(console, threshold=3, goal="power")
    host = rec.power_on[0]

    async def no_answer(name: str) -> None:  # the BMC took it, the host never comes
        return None

    monkeypatch.setattr(console.driver, "power_on_host", no_answer)
    monkeypatch.setattr(waking, "WAIT_UP_S", 0.0)
    applied = await apply_moves(console, rec)
    assert f"{host} stays off: Host {host} was powered on but did not answer within 0 s" in (
        "\n".join(applied.lines)
    )
    assert not [v for v in quiet_fleet.vms.values() if v.host == host]
    [failed] = [a for a in audit(console, "host.power-on") if a[0] == host]
    assert failed[1] == "failed"


async def test_a_host_whose_vms_are_all_shut_off_is_not_planned_off(
    console: Console, quiet_fleet: emulator.Fleet
) -> None:
    """Powering it off would be refused (it still holds VMs): the plan must not say it."""
    for vm in ("vm11", "vm12"):
        await console.destroy_vm(vm)
    await console.sync()
    rec = recommendations(console, threshold=3, goal="power")
    assert "h1" not in rec.power_off
    assert not any(m.vm in ("vm11", "vm12") or m.source == "h1" for m in rec.moves)
    applied = await apply_moves(console, rec)
    assert applied.done == applied.steps, applied.lines
    assert quiet_fleet.hosts["h1"].state == "up"
