from __future__ import annotations

from tests.cli.conftest import Vdctui


def test_create_a_pool_and_set_its_limits(vdctui: Vdctui) -> None:
    result = vdctui(
        "pool", "create", "analytics", "--memory-limit", "8GiB", "--cpu-reservation", "1000"
    )
    assert result.exit_code == 0, result.output
    (pool,) = [p for p in vdctui.json("pool", "list") if p["pool"]["name"] == "analytics"]
    assert pool["pool"]["memory_limit_mib"] == 8192
    assert pool["pool"]["cpu_reservation_mhz"] == 1000
    assert vdctui("pool", "set", "analytics", "--memory-limit", "16GiB").exit_code == 0
    # the limit is enforced: 16 GiB of 4-GiB VMs fit, a fifth does not
    assert (
        vdctui(
            "vm", "create", "a", "--flavor", "medium", "--pool", "analytics", "--count", "4"
        ).exit_code
        == 0
    )
    refused = vdctui("vm", "create", "b", "--flavor", "medium", "--pool", "analytics")
    assert refused.exit_code == 1 and "limit" in refused.stderr


def test_pool_settings_that_contradict_themselves_are_refused(vdctui: Vdctui) -> None:
    result = vdctui("pool", "set", "web", "--memory-reservation", "8GiB", "--memory-limit", "4GiB")
    assert result.exit_code == 1
    assert "above its limit" in result.stderr
    assert vdctui.json("audit", "list")[0]["result"] == "refused"
    assert vdctui("pool", "set", "web").exit_code == 2  # nothing to change
    assert vdctui("pool", "set", "nowhere", "--cpu-shares", "5").exit_code == 1


def test_an_affinity_group_is_kept(vdctui: Vdctui) -> None:
    names = [v["name"] for v in vdctui.json("vm", "list", "--state", "running")[:2]]
    result = vdctui("vm", "affinity", "pair", *names, "--kind", "different-hosts")
    assert result.exit_code == 0, result.output
    bad = vdctui("vm", "affinity", "solo", names[0], "--kind", "same-host")
    assert bad.exit_code == 1 and "at least two" in bad.stderr
    ghost = vdctui("vm", "affinity", "g", names[0], "ghost", "--kind", "same-host")
    assert ghost.exit_code == 1 and "ghost" in ghost.stderr
