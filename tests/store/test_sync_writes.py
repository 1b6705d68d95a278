"""A big sync writes in short transactions: another process's change waits for one chunk
of rows, never for the whole sync (issue 17)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

import emulator
import vdctui.store.inventory as inventory
from vdctui.drivers.emulated import EmulatedDriver
from vdctui.model import Role, VmState
from vdctui.ops import Console, Identity
from vdctui.store import Store


class Transactions:
    """The statements of each write transaction a connection ran (its SQL trace)."""

    def __init__(self) -> None:
        self.done: list[list[str]] = []
        self._open: list[str] | None = None

    def __call__(self, sql: str) -> None:
        if sql.startswith("BEGIN IMMEDIATE"):
            self._open = []
        elif sql == "COMMIT" and self._open is not None:
            self.done.append(self._open)
            self._open = None
        elif self._open is not None:
            self._open.append(sql)

    def rows_written(self, table: str) -> list[int]:
        """For each transaction that wrote `table`, how many rows it wrote there."""
        counts = [sum(1 for sql in t if sql.startswith(f"INSERT INTO {table} ")) for t in self.done]
        return [n for n in counts if n]


def traced(store: Store) -> Transactions:
    transactions = Transactions()
    store._db.conn.set_trace_callback(transactions)
    return transactions


def test_many_vms_are_written_a_chunk_to_a_transaction(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(inventory, "WRITE_CHUNK", 40)
    fleet = emulator.build_demo(seed=3, hosts=4, vms=100)
    driver = EmulatedDriver(fleet, speed=None)
    with Store(tmp_path / "vdctui.db") as store:
        transactions = traced(store)
        vms = [driver._vm(v) for v in fleet.vms.values()]
        store.upsert_vms(vms)
        assert transactions.rows_written("vms") == [40, 40, 20]
        assert store.count_vms() == 100
        with store._db.atomic():  # inside a transaction already open: all in it
            store.upsert_vms([replace(vm, vcpus=vm.vcpus + 1) for vm in vms])
        assert len(transactions.done) == 4
        assert store.vm(vms[0].name) == replace(vms[0], vcpus=vms[0].vcpus + 1)


async def test_a_sync_writes_vms_and_hosts_in_short_transactions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first sync of 300 VMs on 30 hosts, with chunks of 25: no transaction writes
    more than 25 VMs or hosts; the store then holds the fleet, and a second sync of an
    unchanged fleet writes no VM."""
    monkeypatch.setattr(inventory, "WRITE_CHUNK", 25)
    fleet = emulator.build_demo(seed=5, hosts=30, vms=300)
    driver = EmulatedDriver(fleet, speed=None)
    console = Console(Store(tmp_path / "vdctui.db"), driver, Identity("alice", Role.ADMIN))
    try:
        transactions = traced(console.store)
        await console.sync()
        vm_writes = transactions.rows_written("vms")
        host_writes = transactions.rows_written("hosts")
        assert sum(vm_writes) == 300 and max(vm_writes) == 25
        assert sum(host_writes) == 30 and max(host_writes) == 25
        assert console.store.count_vms() == 300
        assert {vm.name: vm for vm in console.store.vms()} == {
            vm.name: vm for vm in await driver.list_vms()
        }
        transactions.done.clear()
        await console.sync()
        assert transactions.rows_written("vms") == []
    finally:
        await console.close()


async def test_a_vm_changed_between_syncs_is_written_again(tmp_path: Path) -> None:
    """What the reconciler remembers of each VM (to compare the next sync with) follows
    the VMs the console changes itself and those the fleet changes."""
    fleet = emulator.build_demo(seed=5, hosts=4, vms=20)
    driver = EmulatedDriver(fleet, speed=None)
    console = Console(Store(tmp_path / "vdctui.db"), driver, Identity("alice", Role.ADMIN))
    try:
        await console.sync()
        name = next(v.name for v in fleet.vms.values() if v.state == "running")
        await console.destroy_vm(name)
        assert console.store.vm(name).state is VmState.SHUTOFF
        fleet.start_vm(name)  # behind the console's back
        await console.sync()
        assert console.store.vm(name).state is VmState.RUNNING
    finally:
        await console.close()
