"""Every changing command checks the role first: a viewer's command exits 1, leaves no
task and no change behind, and its refusal is in the audit log."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.conftest import Vdctui
from vdctui.backend import fleet_path


def refused(vdctui: Vdctui, *args: str, action: str) -> None:
    tasks_before = vdctui.json("task", "list")
    result = vdctui(*args, read_only=True)
    assert result.exit_code == 1, result.output
    assert "read-only" in result.stderr and "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert vdctui.json("task", "list") == tasks_before  # no task row
    record = vdctui.json("audit", "list")[0]
    assert (record["action"], record["role"], record["result"]) == (action, "viewer", "refused")


def up_host(vdctui: Vdctui) -> str:
    return next(h["name"] for h in vdctui.json("host", "list") if h["state"] == "up")


def test_emulate_fresh(vdctui: Vdctui) -> None:
    before = fleet_path(vdctui.db).read_bytes()
    refused(vdctui, "emulate", "--fresh", "--yes", "--for", "1m", action="emulate.fresh")
    assert fleet_path(vdctui.db).read_bytes() == before  # the data center is still there


def test_emulate_fresh_is_refused_before_it_asks(vdctui: Vdctui) -> None:
    result = vdctui("emulate", "--fresh", "--for", "1m", read_only=True)
    assert result.exit_code == 1 and "read-only" in result.stderr
    assert "confirmation" not in result.stderr


def test_ha_watch_with_restarts(vdctui: Vdctui) -> None:
    refused(vdctui, "ha", "watch", "--rounds", "1", "--interval", "0.1", action="ha.watch")


def test_ha_watch_without_restarts_is_a_read(vdctui: Vdctui) -> None:
    result = vdctui("ha", "watch", "--no-restart", "--rounds", "1", read_only=True)
    assert result.exit_code == 0, result.output


def test_ha_fence(vdctui: Vdctui) -> None:
    host = up_host(vdctui)
    refused(vdctui, "ha", "fence", host, "--yes", action="host.power-off")
    assert {h["name"]: h["state"] for h in vdctui.json("host", "list")}[host] == "up"


def test_ha_fence_is_refused_before_it_asks(vdctui: Vdctui) -> None:
    result = vdctui("ha", "fence", up_host(vdctui), read_only=True)
    assert result.exit_code == 1 and "confirmation" not in result.stderr


def test_ha_restart(vdctui: Vdctui) -> None:
    refused(vdctui, "ha", "restart", up_host(vdctui), action="ha.restart-host")


def test_balance_apply(vdctui: Vdctui) -> None:
    migrations = vdctui.json("migration", "list")
    refused(vdctui, "balance", "--apply", "--yes", "--threshold", "5", action="balance.apply")
    assert vdctui.json("migration", "list") == migrations


def test_pool_create_and_set(vdctui: Vdctui) -> None:
    refused(vdctui, "pool", "create", "gold", "--cpu-shares", "4000", action="pool.create")
    assert "gold" not in [p["pool"]["name"] for p in vdctui.json("pool", "list")]
    pool = vdctui.json("pool", "list")[0]
    name = pool["pool"]["name"]
    refused(vdctui, "pool", "set", name, "--cpu-shares", "1", action="pool.update")
    assert vdctui.json("pool", "list")[0] == pool


def test_affinity(vdctui: Vdctui) -> None:
    a, b = [v["name"] for v in vdctui.json("vm", "list")[:2]]
    refused(vdctui, "vm", "affinity", "pair", a, b, "--kind", "same-host", action="affinity.update")


def test_maintenance(vdctui: Vdctui) -> None:
    host = up_host(vdctui)
    refused(vdctui, "host", "maintenance", host, "--yes", action="host.maintenance.enter")
    refused(vdctui, "host", "maintenance", host, "--exit", action="host.maintenance.exit")


def test_destroy_is_refused_before_it_asks(vdctui: Vdctui) -> None:
    name = next(v["name"] for v in vdctui.json("vm", "list") if v["state"] == "running")
    result = vdctui("vm", "destroy", name, read_only=True)
    assert result.exit_code == 1 and "read-only" in result.stderr
    assert "confirmation" not in result.stderr


def test_operator_set(vdctui: Vdctui) -> None:
    refused(vdctui, "operator", "set", "nobody", "--role", "admin", action="operator.set")


def test_host_trust(vdctui: Vdctui, tmp_path: Path) -> None:
    (tmp_path / "known_hosts").write_text("")
    inventory = tmp_path / "inventory.toml"
    inventory.write_text(
        'known_hosts = "known_hosts"\n\n[[hosts]]\nname = "kvm-01"\nsite = "s"\n'
        'room = "r"\nrack = "a"\naddress = "root@127.0.0.1:1"\n'
    )
    result = vdctui("--inventory", str(inventory), "host", "trust", "kvm-01", read_only=True)
    assert result.exit_code == 1, result.output
    assert "needs the admin role" in result.stderr and "read-only" in result.stderr
    record = vdctui.json("audit", "list")[0]
    assert (record["action"], record["result"]) == ("host.trust", "refused")


@pytest.mark.parametrize("role", ["viewer", "operator"])
def test_the_environment_lowers_for_every_command(
    vdctui: Vdctui, monkeypatch: pytest.MonkeyPatch, role: str
) -> None:
    monkeypatch.setenv("VDCTUI_ROLE", role)
    result = vdctui("pool", "create", "gold")
    assert result.exit_code == 1 and "needs the admin role" in result.stderr
    assert vdctui.json("audit", "list")[0]["role"] == role


@pytest.mark.parametrize(
    ("args", "action"),
    [
        (("on",), "host.power-on"),
        (("off",), "host.power-off"),
        (("off", "--force"), "host.power-off"),
        (("cycle",), "host.power-cycle"),
    ],
)
def test_host_power(vdctui: Vdctui, args: tuple[str, ...], action: str) -> None:
    host = up_host(vdctui)
    refused(vdctui, "host", "power", args[0], host, *args[1:], "--yes", action=action)
    assert {h["name"]: h["state"] for h in vdctui.json("host", "list")}[host] == "up"


def test_host_power_is_refused_before_it_asks(vdctui: Vdctui) -> None:
    result = vdctui("host", "power", "off", up_host(vdctui), read_only=True)
    assert result.exit_code == 1 and "confirmation" not in result.stderr
