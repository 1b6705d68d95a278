"""`host list` and `vm list` beside the process that holds a big embedded fleet: between
two whole syncs, its CPU, memory and power figures are older than the states. Each row
says when its figures were read (`figures_at`, null when not known); a table says how
old they are, on stderr."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.cli.conftest import Vdctui
from tests.ops.test_sync_changes import incremental, running, small  # noqa: F401 - fixture
from vdctui.backend import fleet_path
from vdctui.fleet_lock import FleetLock


def synced_then_changes_read(tmp_path: Path) -> tuple[Path, float, float]:
    """A store whose last sync read only what changed, 42 s after the last whole one:
    (its path, when the whole sync read the figures, when the states were read)."""
    console, fleet = small(tmp_path)

    async def syncs() -> tuple[float, float]:
        await console.sync()
        whole_at = console.store_now()
        await console.driver.advance(42)  # type: ignore[attr-defined]
        fleet.suspend_vm(running(fleet)[0])
        await console.sync()
        assert not console.reconciler.whole
        return whole_at, console.store_now()

    whole_at, states_at = asyncio.run(syncs())
    console.store.close()
    return tmp_path / "v.db", whole_at, states_at


def test_lists_say_when_their_figures_were_read(
    tmp_path: Path,
    incremental: None,  # noqa: F811
) -> None:
    db, whole_at, states_at = synced_then_changes_read(tmp_path)
    holder = FleetLock(fleet_path(db), db, "vdctui emulate")  # another process holds it
    holder.acquire()
    try:
        vdctui = Vdctui(db)
        hosts = vdctui.json("host", "list")
        vms = vdctui.json("vm", "list")
        table = vdctui("host", "list")
        vm_table = vdctui("vm", "list")
    finally:
        holder.release()
    assert hosts and vms
    for host in hosts:
        assert host["seen_at"] == states_at  # answered the last sync
        assert host["figures_at"] == whole_at  # its cpu_util, power_watts as then
    for vm in vms:
        assert vm["figures_at"] == whole_at
    assert table.exit_code == 0 and vm_table.exit_code == 0
    assert "cpu%, mem used and watts as read " in table.stderr
    assert "cpu% as read " in vm_table.stderr
    assert "as read" not in table.stdout + vm_table.stdout  # stdout: the table alone


def test_figures_read_with_the_states_say_nothing_more(tmp_path: Path) -> None:
    console, _fleet = small(tmp_path)
    asyncio.run(console.sync())
    whole_at = console.store_now()
    console.store.close()
    db = tmp_path / "v.db"
    holder = FleetLock(fleet_path(db), db, "vdctui emulate")
    holder.acquire()
    try:
        vdctui = Vdctui(db)
        hosts = vdctui.json("host", "list")
        table = vdctui("host", "list")
    finally:
        holder.release()
    assert {h["figures_at"] for h in hosts} == {whole_at}
    assert "as read" not in table.stderr
