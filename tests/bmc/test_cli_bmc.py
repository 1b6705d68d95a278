"""The CLI over an inventory whose host has a BMC (sushy-tools' emulator) and no SSH answer."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.bmc.sushy import USER, Sushy, start_sushy
from vdctui.cli.main import main

STALE = 3  # `host list`'s exit code when a host did not answer


@pytest.fixture
def sushy(tmp_path: Path) -> Iterator[Sushy]:
    served = start_sushy(tmp_path)
    try:
        yield served
    finally:
        served.stop()


def write_inventory(tmp_path: Path, sushy: Sushy, tls: str) -> Path:
    path = tmp_path / "inv.toml"
    path.write_text(
        "[[hosts]]\n"
        'name = "kvm-01"\nsite = "par1"\nroom = "hall-a"\nrack = "a01"\n'
        'address = "root@127.0.0.1:1"\n'  # nothing listens: SSH never answers
        f'bmc = "{sushy.url}"\nbmc_user = "{USER}"\n'
        f'bmc_password_file = "{sushy.password_file}"\n{tls}\n'
    )
    return path


def run(tmp_path: Path, inventory: Path, *args: str) -> Result:
    flags = ["--db", str(tmp_path / "v.db"), "--inventory", str(inventory)]
    return CliRunner().invoke(main, [*flags, *args], catch_exceptions=False)


def host_row(tmp_path: Path, inventory: Path) -> dict[str, object]:
    result = run(tmp_path, inventory, "--json", "host", "list")
    rows: list[dict[str, object]] = json.loads(result.stdout)
    # a host that does not answer is stale (exit 3); one known off is not
    assert result.exit_code == (0 if rows[0]["state"] == "off" else STALE), result.output
    return rows[0]


def test_power_off_then_fence_through_the_bmc(tmp_path: Path, sushy: Sushy) -> None:
    inventory = write_inventory(tmp_path, sushy, f'bmc_ca = "{sushy.ca}"')
    row = host_row(tmp_path, inventory)
    assert row["state"] == "unreachable"  # SSH silent, BMC says On: it may run its VMs
    assert row["power_watts"] is None  # not reported by this BMC: unknown, never 0
    assert row["power_state"] == "On"  # what the BMC says, beside what SSH says
    result = run(tmp_path, inventory, "host", "power", "off", "kvm-01", "--force", "--yes")
    assert result.exit_code == 0, result.output
    deadline = time.monotonic() + 60  # the emulator applies power changes 1-11 s later
    while host_row(tmp_path, inventory)["state"] != "off":
        assert time.monotonic() < deadline, "the BMC never reported Off"
        time.sleep(0.5)
    assert host_row(tmp_path, inventory)["power_state"] == "Off"
    result = run(tmp_path, inventory, "ha", "fence", "kvm-01", "--yes")
    assert result.exit_code == 0, result.output
    assert "already reports the power Off" in result.output


def test_insecure_is_warned(tmp_path: Path, sushy: Sushy) -> None:
    inventory = write_inventory(tmp_path, sushy, "bmc_insecure = true")
    result = run(tmp_path, inventory, "--json", "host", "list")
    assert result.exit_code == STALE, result.output
    assert "does not verify its BMC's TLS certificate (bmc_insecure = true)" in result.stderr


def test_a_refused_certificate_leaves_power_unknown(tmp_path: Path, sushy: Sushy) -> None:
    inventory = write_inventory(tmp_path, sushy, "")  # no bmc_ca: the test CA is unknown
    row = host_row(tmp_path, inventory)
    assert row["state"] == "unreachable" and row["power_watts"] is None
    assert row["power_state"] is None and row["health"] is None  # no reading: unknown
    result = run(tmp_path, inventory, "ha", "fence", "kvm-01", "--yes")
    assert result.exit_code == 1
    assert "The fence of host kvm-01 failed" in result.stderr
    assert "certificate that is not trusted" in result.stderr
