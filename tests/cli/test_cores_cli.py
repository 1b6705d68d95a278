"""`vdctui host cores NAME` and `vdctui vm cpu-policy NAME shared|dedicated`."""

from __future__ import annotations

from tests.cli.conftest import Vdctui


def a_running_vm(vdctui: Vdctui) -> tuple[str, str]:
    vm = next(v for v in vdctui.json("vm", "list", "--state", "running") if v["vcpus"] <= 4)
    return vm["name"], vm["host"]


def test_host_cores_shows_nodes_reserved_cpus_and_a_dedicated_vm(vdctui: Vdctui) -> None:
    name, host = a_running_vm(vdctui)
    result = vdctui("host", "cores", host)
    assert result.exit_code == 0, result.output
    assert "2 NUMA nodes" in result.output and "R reserved for the host" in result.output
    done = vdctui("vm", "cpu-policy", name, "dedicated")
    assert done.exit_code == 0, done.output
    assert f"{name} is dedicated on {host}: vCPUs on CPUs" in done.output
    shown = vdctui("host", "cores", host).output
    assert f"a {name}:" in shown
    [cores] = vdctui.json("host", "cores", host)
    assert [v["vm"] for v in cores["dedicated"]] == [name]
    holders = {c["holder"] for n in cores["nodes"] for core in n["cores"] for c in core}
    assert name in holders
    back = vdctui("vm", "cpu-policy", name, "shared")
    assert back.exit_code == 0 and "is shared" in back.output
    assert vdctui.json("host", "cores", host)[0]["dedicated"] == []


def test_a_viewer_is_refused_before_anything_and_an_unknown_host_is_an_error(
    vdctui: Vdctui, monkeypatch
) -> None:
    name, _ = a_running_vm(vdctui)
    monkeypatch.setenv("VDCTUI_ROLE", "viewer")
    refused = vdctui("vm", "cpu-policy", name, "dedicated")
    assert refused.exit_code == 1
    assert "vm.cpu-policy" in vdctui("audit", "list").output
    monkeypatch.delenv("VDCTUI_ROLE")
    unknown = vdctui("host", "cores", "no-such-host")
    assert unknown.exit_code == 1 and "no-such-host" in unknown.output


def test_host_pins_and_reserve_cpus(vdctui: Vdctui) -> None:
    name, host = a_running_vm(vdctui)
    assert vdctui("vm", "cpu-policy", name, "dedicated").exit_code == 0
    checked = vdctui("host", "pins", host)
    assert checked.exit_code == 0, checked.output
    assert f"Every VM on {host} is pinned as held." in checked.output
    assert vdctui("host", "pins", host, "--repair").exit_code == 0
    assert vdctui.json("host", "pins", host) == []
    [cores] = vdctui.json("host", "cores", host)
    held = {c["cpu"] for n in cores["nodes"] for core in n["cores"] for c in core if c["holder"]}
    free = sorted(
        c["cpu"]
        for n in cores["nodes"]
        for core in n["cores"]
        for c in core
        if not c["holder"] and not c["reserved"]
    )
    asked = vdctui("host", "reserve-cpus", host, str(free[0]))  # not at a terminal: --yes
    assert asked.exit_code == 1 and "needs confirmation" in asked.output
    done = vdctui("host", "reserve-cpus", host, str(free[0]), "--yes")
    assert done.exit_code == 0, done.output
    assert f"Host {host} keeps CPUs {free[0]} for itself." in done.output
    refused = vdctui("host", "reserve-cpus", host, str(min(held)), "--yes")
    assert refused.exit_code == 1 and f"is held by dedicated VM {name}" in refused.output
    bad = vdctui("host", "reserve-cpus", host, "1;reboot", "--yes")
    assert bad.exit_code == 1 and "Not a CPU list" in bad.output
    audit = vdctui("audit", "list").output
    assert "host.reserve-cpus" in audit
