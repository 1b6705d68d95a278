"""The pre-flight check on real hosts: a VM on a libvirt network its target lacks fails the
check (and the migration is refused); once the network is added there, it passes and moves."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.lab.conftest import Guests, run_cli
from tests.lab.lab import Lab

NETWORK = "pfnet"
NETWORK_XML = (
    f"<network><name>{NETWORK}</name><forward mode='bridge'/><bridge name='br0'/></network>\n"
)


def add_network(lab: Lab, host: int) -> None:
    lab.virsh(host, "net-define", "/dev/stdin", input=NETWORK_XML)
    lab.virsh(host, "net-start", NETWORK)


@pytest.fixture
def network_on_labh1(lab: Lab) -> Iterator[None]:
    add_network(lab, 1)
    try:
        yield
    finally:
        for host in (1, 2):
            lab.virsh(host, "net-destroy", NETWORK, check=False)
            lab.virsh(host, "net-undefine", NETWORK, check=False)


def verdicts(done_stdout: str) -> dict[str, str]:
    return {row["name"]: row["verdict"] for row in json.loads(done_stdout)}


def test_a_missing_network_fails_the_check_until_it_is_added(
    lab: Lab, lab_inventory: Path, guests: Guests, tmp_path: Path, network_on_labh1: None
) -> None:
    vm = guests.define("pf-one", 1, network=NETWORK)
    db = tmp_path / "c.db"
    check = ("vm", "migrate", vm, "--to", "labh2", "--check")
    failed = run_cli(lab_inventory, db, *check)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert f"network or bridge {NETWORK} not on labh2" in failed.stdout
    refused = run_cli(lab_inventory, db, "vm", "migrate", vm, "--to", "labh2")
    assert refused.returncode == 1 and "pre-flight check" in refused.stderr
    assert guests.where(vm) == [(1, "running")]  # nothing moved
    add_network(lab, 2)
    passed = run_cli(lab_inventory, db, "--json", *check)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    shown = verdicts(passed.stdout)
    assert shown["network"] == "pass" and "fail" not in shown.values()
    moved = run_cli(lab_inventory, db, "vm", "migrate", vm, "--to", "labh2")
    assert moved.returncode == 0, moved.stdout + moved.stderr
    assert guests.where(vm) == [(2, "running")]


def test_the_cpu_check_is_libvirts_comparison(
    lab: Lab, lab_inventory: Path, guests: Guests, tmp_path: Path
) -> None:
    """On real hosts the CPU check is `virsh hypervisor-cpu-compare` on the target with
    the VM's live CPU definition from its source, not a comparison of model strings."""
    vm = guests.define("pf-cpu", 1)
    done = run_cli(lab_inventory, tmp_path / "c.db", "--json", "vm", "migrate", vm, "--to",
                   "labh2", "--check")  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    [cpu] = [row for row in json.loads(done.stdout) if row["name"] == "cpu"]
    assert cpu["verdict"] == "pass"
    assert cpu["reason"].startswith("labh2's hypervisor offers") and vm in cpu["reason"]
