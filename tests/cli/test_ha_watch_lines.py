"""`ha watch` says each VM it restarts (or fails to) in one line as it comes, under the
host it restarts them from, as `ha restart` does: a restart stopped midway (cancelled,
`task cancel N`) leaves the lines of the VMs it did restart on the screen."""

from __future__ import annotations

from typing import Any

import pytest

from tests.cli.conftest import Vdctui
from vdctui.ops import ha
from vdctui.ops.console import Console


def fenced_host(vdctui: Vdctui) -> tuple[str, list[str]]:
    """The up host with the most running VMs, fenced; and those VMs."""
    vms = vdctui.json("vm", "list")
    hosts = {v["host"] for v in vms}
    host = max(
        sorted(hosts), key=lambda h: sum(v["host"] == h and v["state"] == "running" for v in vms)
    )
    result = vdctui("ha", "fence", host, "--yes")
    assert result.exit_code == 0, result.output
    return host, sorted(v["name"] for v in vms if v["host"] == host and v["state"] == "running")


def watch(vdctui: Vdctui) -> Any:
    return vdctui("ha", "watch", "--missed", "1", "--rounds", "1", "--interval", "0.1")


def test_ha_watch_says_each_vm_it_restarts_under_its_host(vdctui: Vdctui) -> None:
    host, victims = fenced_host(vdctui)
    assert len(victims) > 2
    result = watch(vdctui)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "round 1: 1 host(s) not answering"
    assert lines[1].startswith(f"{host}: off, failed and fenced")
    assert lines[2] == f"restarting the VMs of {host}:"
    said = lines[3:]
    assert sorted(line.strip().split(":")[0] for line in said) == victims  # one line each
    assert all(line.startswith("  ") and ": restarted on " in line for line in said), said


def test_a_restart_stopped_midway_leaves_the_lines_of_what_it_restarted(
    vdctui: Vdctui, monkeypatch: pytest.MonkeyPatch
) -> None:
    host, victims = fenced_host(vdctui)
    real = ha._restart_one

    async def then_cancelled(console: Console, *args: Any, **kwargs: Any) -> Any:
        outcome = await real(console, *args, **kwargs)
        (task,) = [t for t in console.tasks(active=True) if t.kind == "ha-restart"]
        await console.cancel_task(task.id)  # as `vdctui task cancel N` meanwhile
        return outcome

    monkeypatch.setattr(ha, "_restart_one", then_cancelled)
    result = watch(vdctui)
    assert result.exit_code == 1, result.output
    assert f"was cancelled after 1 of {len(victims)} steps" in result.stderr
    said = [line for line in result.stdout.splitlines() if line.startswith("  ")]
    assert len(said) == 1 and ": restarted on " in said[0], result.stdout
