"""The CLI over SSH: `emulate --serve-ssh` in a process, `--inventory` and `host trust`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import asyncssh
import pytest
from click.testing import CliRunner

from tests.ssh.served import emulate_serving
from vdctui.cli.main import main


@pytest.fixture(scope="module")
def emulated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """`vdctui emulate --serve-ssh` running 3 hosts; yields its inventory file."""
    with emulate_serving(tmp_path_factory.mktemp("serve")) as inventory:
        yield inventory


def cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def hosts(db: Path, inventory: Path) -> dict[str, dict[str, object]]:
    args = ["--db", str(db), "--json", "--inventory", str(inventory), "host", "list"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code in (0, 3), result.output  # 3: a host did not answer (on stderr)
    return {h["name"]: h for h in json.loads(result.stdout)}


def test_inventory_lists_and_acts(emulated: Path, tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    found = hosts(db, emulated)
    assert len(found) == 3 and {h["state"] for h in found.values()} == {"up"}
    code, out = cli("--db", str(db), "--json", "--inventory", str(emulated), "vm", "list")
    assert code == 0, out
    running = next(v["name"] for v in json.loads(out) if v["state"] == "running")
    code, out = cli("--db", str(db), "--inventory", str(emulated), "vm", "suspend", running)
    assert code == 0, out
    code, out = cli("--db", str(db), "--inventory", str(emulated), "vm", "resume", running)
    assert code == 0, out


def test_unknown_key_then_trust_then_changed_key(emulated: Path, tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    text = emulated.read_text()
    known = emulated.with_suffix(".keys") / "known_hosts"
    lines = known.read_text().splitlines()
    second = lines[1].split()[0]  # known_hosts lines are in host name order
    impostor = asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode()
    mine = tmp_path / "known_hosts"
    mine.write_text(f"{second} {impostor}")  # first: unknown; second: changed
    inventory = tmp_path / "inv.toml"
    inventory.write_text(text.replace(f'known_hosts = "{known}"', f'known_hosts = "{mine}"'))
    names = sorted(hosts(db, emulated))
    found = hosts(db, inventory)
    assert found[names[0]]["state"] == "unreachable"
    assert f"vdctui host trust {names[0]}" in str(found[names[0]]["reason"])
    assert "CHANGED" in str(found[names[1]]["reason"])
    code, out = cli(
        "--db", str(db), "--inventory", str(inventory), "host", "trust", names[0], "--yes"
    )
    assert code == 0 and "Trusted" in out, out
    assert hosts(db, inventory)[names[0]]["state"] == "up"
    code, out = cli(
        "--db", str(db), "--inventory", str(inventory), "host", "trust", names[1], "--yes"
    )
    assert code == 1 and "refused" in out
    assert hosts(db, inventory)[names[1]]["state"] == "unreachable"
    code, out = cli("--db", str(db), "--json", "audit", "list")
    actions = {(r["action"], r["target"], r["result"]) for r in json.loads(out)}
    assert ("host.trust", names[0], "ok") in actions
    assert ("host.key-changed", names[1], "refused") in actions
