"""Over SSH (emulated hosts behind sshd, fenced through their emulated BMCs): an HA restart
whose start fails on the target undefines the copy it defined there (`virsh undefine` on
that host only), so the VM is not left defined on two hosts."""

from __future__ import annotations

import pytest

from tests.bmc.test_emulated_bmc import Emulated, busiest, emulated  # noqa: F401 - fixture
from vdctui.model import HostState
from vdctui.ops.ha import fence, restart_vms_of


async def test_a_restart_whose_start_fails_leaves_no_definition_on_the_target(
    emulated: Emulated,  # noqa: F811 - the fixture
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fleet, console = emulated.fleet, emulated.console
    host = busiest(fleet)
    running = sorted(n for n in fleet.hosts[host].vm_names if fleet.vms[n].state == "running")
    doomed = running[0]
    fleet.partition_host(host)
    await console.sync()
    await fence(console, host)
    assert console.host(host).state is HostState.OFF
    start = fleet.start_vm

    def failing_start(name: str) -> None:
        if name == doomed:
            raise fleet.refuse(f"VM {name} cannot be started: its emulator fell over.")
        start(name)

    monkeypatch.setattr(fleet, "start_vm", failing_start)
    outcomes = {o.vm: o for o in await restart_vms_of(console, host)}
    failed = outcomes[doomed]
    assert failed.target is None and "its definition there was removed" in failed.error, failed
    assert fleet.vms[doomed].host == host  # only its fenced host's definition
    assert all(doomed not in h.vm_names for name, h in fleet.hosts.items() if name != host)
    assert console.vm(doomed).host == host
    for name in running[1:]:
        assert outcomes[name].target and fleet.vms[name].state == "running"
