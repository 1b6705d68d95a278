"""`vdctui service ...` on the embedded data center."""

from __future__ import annotations

import pytest

from tests.cli.conftest import Vdctui


def running_web(vdctui: Vdctui, count: int) -> list[str]:
    rows = vdctui.json("vm", "list", "--pool", "web", "--state", "running")
    return sorted(r["name"] for r in rows)[:count]


def test_create_add_drain_enable_list(vdctui: Vdctui) -> None:
    a, b = running_web(vdctui, 2)
    result = vdctui("service", "create", "shop", "--vip", "10.0.0.10", "--port", "443")
    assert result.exit_code == 0, result.output
    for vm in (a, b):
        assert vdctui("service", "member", "add", "shop", vm, "--port", "8080").exit_code == 0
    assert vdctui("emulate", "--for", "20s").exit_code == 0
    result = vdctui("service", "list")
    assert "shop  10.0.0.10:443  roundrobin  check tcp  req/s 100" in result.stdout
    assert f"  {a}:8080  up     healthy  weight 100  sessions 500  req/s 50" in result.stdout
    result = vdctui("service", "drain", "shop", f"{a}:8080")
    assert result.exit_code == 0 and f"shop: {a}:8080 set to drain." in result.stdout
    result = vdctui("service", "drain", "shop", b)
    assert result.exit_code == 1
    assert f"would lose its last healthy member ({b}:8080)" in result.stderr
    (shop,) = vdctui.json("service", "list")
    states = {m["vm"]: m["state"] for m in shop["members"]}
    assert states == {a: "drain", b: "up"}
    assert vdctui("service", "enable", "shop", a).exit_code == 0
    result = vdctui("service", "member", "remove", "shop", a)
    assert result.exit_code == 0, result.output
    (shop,) = vdctui.json("service", "list")
    assert [m["vm"] for m in shop["members"]] == [b]


def test_a_viewer_may_list_but_not_change(vdctui: Vdctui) -> None:
    assert "No services." in vdctui("service", "list", read_only=True).stdout
    result = vdctui(
        "service", "create", "shop", "--vip", "10.0.0.10", "--port", "443", read_only=True
    )
    assert result.exit_code == 1 and "viewer" in result.stderr.lower()


def test_a_stop_or_drained_migration_of_the_last_member_needs_force(
    vdctui: Vdctui, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The forced stop drains the member first and waits, in real time, for its sessions
    # to end or the drain timeout (60 s by default: 76 s of this test); 2 s is enough here.
    monkeypatch.setenv("VDCTUI_DRAIN_TIMEOUT_S", "2")
    (only,) = running_web(vdctui, 1)
    vdctui("service", "create", "shop", "--vip", "10.0.0.10", "--port", "443")
    vdctui("service", "member", "add", "shop", only, "--port", "8080")
    result = vdctui("vm", "stop", only, "--yes")
    assert result.exit_code == 1
    assert f"would lose its last healthy member ({only}:8080)" in result.stderr
    hosts = [h["name"] for h in vdctui.json("host", "list")]
    (vm,) = [v for v in vdctui.json("vm", "list") if v["name"] == only]
    target = next(h for h in hosts if h != vm["host"])
    result = vdctui("vm", "migrate", only, "--to", target, "--drain")
    assert result.exit_code == 1 and "last healthy member" in result.stderr
    result = vdctui("vm", "stop", only, "--yes", "--force")
    assert result.exit_code == 0, result.output
    (shop,) = vdctui.json("service", "list")
    assert shop["members"][0]["state"] == "drain"
