"""Emulated hosts behind SSH on 127.0.0.1 for tests: servers, inventory, key files."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import emulator
from emulator.sshd import FleetSshServer, SshFiles, write_inventory
from tests.waiting import ENOUGH
from vdctui.drivers.ssh import HostKeyBook, Inventory, SshDriver, load_inventory

MIGRATION_RATE = 200.0  # virtual seconds per wall second while a migration runs


@dataclass
class Served:
    fleet: emulator.Fleet
    server: FleetSshServer
    files: SshFiles
    inventory: Inventory
    directory: Path

    def driver(self, **kwargs: object) -> ServedSshDriver:
        book = HostKeyBook(self.inventory.known_hosts)
        return ServedSshDriver(self, self.inventory, book, **kwargs)  # type: ignore[arg-type]

    async def close(self) -> None:
        await self.server.close()
        shutil.rmtree(self.directory, ignore_errors=True)


class ServedSshDriver(SshDriver):
    """An SSH driver that also stops the servers it was tested against."""

    def __init__(self, served: Served, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.served = served

    async def close(self) -> None:
        try:
            await super().close()
        finally:
            await self.served.close()


async def serve(
    fleet: emulator.Fleet,
    *,
    bastion: bool = False,
    hosts: list[str] | None = None,
    migration_rate: float | None = MIGRATION_RATE,
) -> Served:
    directory = Path(tempfile.mkdtemp(prefix="vdctui-ssh-"))
    files = SshFiles(directory / "keys")
    server = FleetSshServer(fleet, [files.client_key()], migration_rate=migration_rate)
    await server.start(hosts)
    if bastion:
        await server.start_bastion()
    path = directory / "inventory.toml"
    write_inventory(path, fleet, server, files, via_bastion=bastion)
    return Served(fleet, server, files, load_inventory(path), directory)


@contextlib.contextmanager
def emulate_serving(tmp: Path, *extra: str) -> Iterator[Path]:
    """`vdctui emulate --hosts 3 --vms 9 --serve-ssh 127.0.0.1:0 EXTRA...` in a process of
    its own; yields the inventory it wrote, and stops it (SIGINT) at the end."""
    inventory = tmp / "inv.toml"
    argv = [sys.executable, "-m", "vdctui", "--db", str(tmp / "emu.db"), "emulate"]
    argv += ["--hosts", "3", "--vms", "9", "--serve-ssh", "127.0.0.1:0"]
    argv += ["--write-inventory", str(inventory), *extra]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + ENOUGH
        while not inventory.exists():
            if proc.poll() is not None:  # it ended: what it said
                raise AssertionError(proc.stderr.read().decode() if proc.stderr else "")
            assert time.monotonic() < deadline, f"emulate wrote no {inventory} within {ENOUGH:g} s"
            time.sleep(0.1)
        yield inventory
    finally:
        os.kill(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
