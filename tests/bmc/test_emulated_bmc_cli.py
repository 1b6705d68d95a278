"""`vdctui emulate --serve-ssh --bmc`: every emulated host has a Redfish BMC, the written
inventory has its bmc keys, and the CLI powers and fences emulated hosts through them."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.ssh.served import emulate_serving
from vdctui.cli.main import main


@pytest.fixture(scope="module")
def inventory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    with emulate_serving(tmp_path_factory.mktemp("serve-bmc"), "--bmc") as written:
        yield written


def run(db: Path, inventory: Path, *args: str) -> Result:
    flags = ["--db", str(db), "--inventory", str(inventory)]
    return CliRunner().invoke(main, [*flags, *args], catch_exceptions=False)


def hosts(db: Path, inventory: Path) -> dict[str, dict[str, object]]:
    result = run(db, inventory, "--json", "host", "list")
    assert result.exit_code in (0, 3), result.output
    return {h["name"]: h for h in json.loads(result.stdout)}


def test_the_inventory_has_each_hosts_bmc(inventory: Path) -> None:
    written = tomllib.loads(inventory.read_text())
    for host in written["hosts"]:
        assert host["bmc"].startswith("https://127.0.0.1:") and host["bmc_user"] == "admin"
        assert Path(host["bmc_password_file"]).exists() and Path(host["bmc_ca"]).exists()
    assert len({h["bmc"] for h in written["hosts"]}) == len(written["hosts"])  # one each


def test_power_and_fencing_through_the_emulated_bmcs(inventory: Path, tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    seen = hosts(db, inventory)
    assert all(h["power_state"] == "On" and h["health"] == "OK" for h in seen.values())
    assert all(isinstance(h["power_watts"], float) and h["power_watts"] > 0 for h in seen.values())
    name = max(seen, key=lambda n: int(str(seen[n]["vm_count"])))
    assert run(db, inventory, "host", "power", "cycle", name, "--yes").exit_code == 0
    assert hosts(db, inventory)[name]["state"] == "up"
    assert run(db, inventory, "host", "power", "off", name, "--force", "--yes").exit_code == 0
    off = hosts(db, inventory)[name]
    assert (off["state"], off["power_state"], off["power_watts"]) == ("off", "Off", 0.0)
    fenced = run(db, inventory, "ha", "fence", name, "--yes")  # already off: confirmed at once
    assert fenced.exit_code == 0 and "already reports the power Off" in fenced.output
    assert run(db, inventory, "host", "power", "on", name, "--yes").exit_code == 0
    assert hosts(db, inventory)[name]["state"] == "up"
    records = json.loads(run(db, inventory, "--json", "audit", "list").stdout)
    assert [r["action"] for r in records[:4]] == [
        "host.power-on",
        "host.power-off",
        "host.power-off",
        "host.power-cycle",
    ]
