"""When each listed VM was last seen (`vm list`'s SEEN, stale or fresh) is read from the
hosts those VMs are on, not from every host: `vm list --host H` on a 10,000-host store
read and decoded all 10,000 host rows (datastores as JSON) for the few VMs it printed,
most of the whole read's time (issue 10, speed)."""

from __future__ import annotations

import pytest

import emulator
from vdctui.model import HostState
from vdctui.ops import Console


def test_the_sightings_of_one_hosts_vms_read_only_that_host(
    console: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    host = console.store.hosts()[0]
    vms = console.vms(host=host.name)
    assert vms

    def every_host() -> None:
        raise AssertionError("read every host for one host's VMs")

    monkeypatch.setattr(console.store, "hosts", every_host)
    monkeypatch.setattr(console.store, "host_seen_at", every_host)
    seen = console.vm_sightings(vms)
    assert set(seen) == {vm.name for vm in vms}
    stamp = console.store.host_states([host.name])[host.name][1]
    assert stamp > 0 and {s.seen_at for s in seen.values()} == {stamp}
    assert not any(s.stale for s in seen.values())


async def test_a_vm_on_a_host_that_did_not_answer_is_stale_as_of_its_hosts_last_answer(
    console: Console, fleet: emulator.Fleet
) -> None:
    down, up = console.store.hosts()[:2]
    answered = console.store.host_states([down.name])[down.name][1]
    fleet.crash_host(down.name)
    await console.sync()
    assert console.host(down.name).state is not HostState.UP
    on_down, on_up = console.vms(host=down.name), console.vms(host=up.name)
    seen = console.vm_sightings(on_down + on_up)
    assert all(seen[vm.name].stale and seen[vm.name].seen_at == answered for vm in on_down)
    assert not any(seen[vm.name].stale for vm in on_up)
    assert console.store.host_states() == {
        h.name: (h.state, seen_at)
        for h, seen_at in ((h, console.store.host_seen_at()[h.name]) for h in console.store.hosts())
    }
