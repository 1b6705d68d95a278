"""Stale data is marked stale with its age: a host that did not answer is named on stderr,
what it holds is shown as last seen, and the exit code says the refresh was partial."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from click.testing import CliRunner

import emulator
from tests.ssh.served import Served, serve
from vdctui.cli.main import main
from vdctui.cli.seen import PARTIAL_EXIT


@pytest.fixture
async def served() -> AsyncIterator[Served]:
    result = await serve(emulator.build_demo(seed=3, hosts=3, vms=9))
    yield result
    await result.close()


async def cli(*args: str | Path) -> tuple[int, str, str]:
    def run() -> tuple[int, str, str]:
        result = CliRunner().invoke(main, [str(a) for a in args])
        return result.exit_code, result.stdout, result.stderr

    return await asyncio.to_thread(run)


async def test_a_silent_host_makes_vm_list_partial_stale_and_exit_3(
    served: Served, tmp_path: Path
) -> None:
    inventory = served.directory / "inventory.toml"
    db = tmp_path / "c.db"
    code, out, err = await cli("--db", db, "--json", "--inventory", inventory, "vm", "list")
    assert code == 0, err
    before = {v["name"]: v for v in json.loads(out)}
    assert all(v["stale"] is False and v["seen_at"] for v in before.values())
    silent = served.inventory.hosts[0].name
    held = {n for n, v in before.items() if v["host"] == silent}
    assert held
    await served.server.stop_host(silent)

    code, out, err = await cli("--db", db, "--json", "--inventory", inventory, "vm", "list")
    assert code == PARTIAL_EXIT == 3
    assert f"host {silent} did not answer" in err and "STALE" in err
    after = {v["name"]: v for v in json.loads(out)}
    assert set(after) == set(before)  # nothing dropped
    for name in held:
        vm = after[name]
        assert vm["stale"] is True and vm["state"] is None
        assert vm["last_state"] == before[name]["state"]
        assert vm["seen_at"] == pytest.approx(before[name]["seen_at"], abs=60)
    assert all(not after[n]["stale"] and after[n]["state"] for n in set(after) - held)

    code, out, err = await cli("--db", db, "--inventory", inventory, "vm", "list")
    assert code == 3
    rows = [line for line in out.splitlines() if line.split()[0] in held]
    assert rows and all("unknown" in r and "STALE, last seen" in r for r in rows)

    code, out, err = await cli("--db", db, "--json", "--inventory", inventory, "host", "list")
    assert code == 3 and silent in err
    hosts = {h["name"]: h for h in json.loads(out)}
    assert hosts[silent]["stale"] is True and hosts[silent]["state"] == "unreachable"
    assert hosts[silent]["seen_at"] is not None
    assert all(not h["stale"] and h["seen_at"] for n, h in hosts.items() if n != silent)

    await served.server.restart_host(silent)
    for _ in range(100):  # the driver backs off reconnecting: retry until it answers
        code, out, err = await cli("--db", db, "--json", "--inventory", inventory, "vm", "list")
        if code == 0:
            break
        await asyncio.sleep(0.1)
    assert code == 0 and not any(v["stale"] for v in json.loads(out))
