"""The balancer's power goal over SSH, through the emulated hosts' Redfish BMCs (as
`vdctui emulate --serve-ssh --bmc` serves them): the hosts it empties are powered off
through their BMCs and remembered as its own; waking one powers it on through its BMC and
returns once it answers over SSH again."""

from __future__ import annotations

from tests.bmc.test_emulated_bmc import Emulated, emulated  # noqa: F401 - fixture
from vdctui.model import HostState
from vdctui.ops import waking
from vdctui.ops.balancer import Recommendation
from vdctui.ops.balancing import apply_moves, recommendations


async def test_hosts_powered_off_through_their_bmcs_are_woken_through_them(
    emulated: Emulated,  # noqa: F811 - the fixture
) -> None:
    fleet, console = emulated.fleet, emulated.console
    emptied = sorted(fleet.hosts)[0]
    for name in list(fleet.hosts[emptied].vm_names):  # its VMs gone (no clock runs here to
        if fleet.vms[name].state != "shut off":  # migrate them): a host with nothing on it
            fleet.destroy_vm(name)
        fleet.undefine_vm(name)
    await console.sync()
    rec = recommendations(console, threshold=3, goal="power")
    assert emptied in rec.power_off, rec
    plan = Recommendation((), (emptied,), (), 0.0, 0.0, 0.0)  # its power-off alone
    applied = await apply_moves(console, plan)
    assert applied.lines == [f"{emptied} powered off (balancer)"], applied.lines
    for host in plan.power_off:
        assert fleet.hosts[host].state == "off"
        seen = console.host(host)
        assert (seen.state, seen.power_state) == (HostState.OFF, "Off")
        assert console.store.power_offs()[host].by == "balancer"
    assert waking.wakeable_hosts(console, console.hosts()) == {emptied}
    host = emptied
    await waking.wake(console, host)
    assert fleet.hosts[host].state == "up"
    seen = console.host(host)
    assert (seen.state, seen.power_state) == (HostState.UP, "On")
    assert host not in console.store.power_offs()
    [record] = console.audit(action="host.power-on", target=host)
    assert (record.result, record.params) == ("ok", {"reason": "balancer-wake"})
