"""An HA restart whose start fails after its define leaves no definition on the target:
the copy defined there is removed (its fenced host's definition is the VM's), said in the
outcome and audited."""

from __future__ import annotations

import pytest

import emulator
from tests.ops.test_ha import busy_host, running_on
from vdctui.drivers.base import InvalidOperation
from vdctui.ops import Console
from vdctui.ops.ha import restart_vms_of


async def test_a_restart_whose_start_fails_removes_its_definition_from_the_target(
    console: Console, fleet: emulator.Fleet, monkeypatch: pytest.MonkeyPatch
) -> None:
    host = busy_host(fleet)
    victims = running_on(fleet, host)
    doomed = victims[0]
    fleet.crash_host(host)
    start = console.driver.start

    async def failing_start(name: str) -> None:
        if name == doomed:
            raise InvalidOperation(f"VM {name} cannot be started: its emulator fell over.")
        await start(name)

    monkeypatch.setattr(console.driver, "start", failing_start)
    outcomes = {o.vm: o for o in await restart_vms_of(console, host)}
    failed = outcomes[doomed]
    assert failed.target is None and "cannot be started" in failed.error
    # not left defined on any other host: where it was, as the fence left it
    assert fleet.vms[doomed].host == host
    assert all(doomed not in h.vm_names for name, h in fleet.hosts.items() if name != host)
    assert "its definition there was removed" in failed.error
    [record] = console.audit(action="ha.restart", target=doomed)
    assert record.result != "ok" and "its definition there was removed" in record.error
    for name in victims[1:]:  # the others restarted as usual
        assert outcomes[name].target and fleet.vms[name].state == "running"
