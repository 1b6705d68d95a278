"""Ops is the last line: numbers and names that reach it from any caller are checked and
the refusal is audited; the inventory file's numbers and names are checked as it loads."""

from __future__ import annotations

from pathlib import Path

import pytest

from vdctui.drivers.ssh import InventoryError, load_inventory
from vdctui.ops import Console, Refused


@pytest.mark.parametrize(
    "settings",
    [
        {"cpu_overcommit": float("nan")},
        {"memory_overcommit": float("inf")},
        {"cpu_limit_mhz": 10**30},
        {"memory_reservation_mib": float("nan")},
        {"cpu_shares": 1.5},
    ],
)
async def test_pool_numbers_are_checked_by_ops(console: Console, settings: dict) -> None:  # type: ignore[type-arg]
    before = console.store.pool("web")
    with pytest.raises(Refused, match="must be"):
        await console.set_pool("web", **settings)
    assert console.store.pool("web") == before
    assert console.audit(limit=1)[0].result == "refused"


async def test_pool_numbers_that_are_fine_pass(console: Console) -> None:
    pool = await console.set_pool("web", cpu_overcommit=8, memory_overcommit=1.5)
    assert pool.cpu_overcommit == 8.0 and pool.memory_overcommit == 1.5


@pytest.mark.parametrize("group", ["", "a" * 10_000, "x\ny", "\x1b[31m", "../../etc"])
async def test_affinity_group_names_are_checked_by_ops(console: Console, group: str) -> None:
    vms = [vm.name for vm in console.vms()][:2]
    with pytest.raises(Refused, match="not a valid affinity group name"):
        await console.set_affinity_group(group, "different-hosts", vms)
    assert console.audit(limit=1)[0].result == "refused"


async def test_task_numbers_and_limits_are_checked_by_ops(console: Console) -> None:
    with pytest.raises(Refused, match="A task number must be"):
        await console.cancel_task(10**30)
    host = console.hosts()[0].name
    with pytest.raises(Refused, match="concurrency limit"):
        console.plan_maintenance(host, max_per_host=float("nan"))  # type: ignore[arg-type]


HOST = """[[hosts]]
name = "{name}"
site = "par1"
room = "hall-a"
rack = "a01"
address = "root@10.0.0.11"
{extra}
"""


@pytest.mark.parametrize(
    ("extra", "key"),
    [
        ("nic_gbps = nan", "nic_gbps"),
        ("nic_gbps = inf", "nic_gbps"),
        ("nic_gbps = 1e300", "nic_gbps"),
        ("reserved_cpus = 9223372036854775807", "reserved_cpus"),
        ("reserved_memory_mib = 1.5", "reserved_memory_mib"),
        ("reserved_memory_mib = -inf", "reserved_memory_mib"),
        ("port = 70000", "port"),
        ('port = "22"', "port"),
    ],
)
def test_inventory_numbers_are_finite_and_in_range(tmp_path: Path, extra: str, key: str) -> None:
    path = tmp_path / "inv.toml"
    path.write_text(HOST.format(name="kvm-01", extra=extra))
    with pytest.raises(InventoryError, match=rf"line 7: '{key}' must be"):
        load_inventory(path)


@pytest.mark.parametrize("name", ["kvm 01", "../../etc", "a" * 64, "kvm\\u001b[31m"])
def test_inventory_names_follow_the_grammar(tmp_path: Path, name: str) -> None:
    path = tmp_path / "inv.toml"
    path.write_text(HOST.format(name=name, extra=""))
    with pytest.raises(InventoryError, match="line 2: .* is not a valid host name"):
        load_inventory(path)


def test_inventory_numbers_that_are_fine_load(tmp_path: Path) -> None:
    path = tmp_path / "inv.toml"
    extra = "nic_gbps = 25\nreserved_cpus = 2\nreserved_memory_mib = 8192\nport = 2222"
    path.write_text(HOST.format(name="kvm-01.example.net", extra=extra))
    (host,) = load_inventory(path).hosts
    assert (host.nic_gbps, host.reserved_cpus, host.address.port) == (25.0, 2, 2222)
