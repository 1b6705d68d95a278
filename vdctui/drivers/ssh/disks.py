"""A stopped VM's disk files, copied from one host to another through the console.

Which disks: every `<disk type='file'>` of the domain's inactive definition with a
source (an empty CD-ROM drive has none). A disk this cannot copy faithfully is a
refusal, before anything changes: a block, network or volume disk, a shareable
one, one with a backing chain, a path that is not a plain absolute one, or a file
the target already has (the console never overwrites a file).

How: `cat -- PATH` on the source streams into `cat > PATH.vdctui-part` on the
target over the console's own SSH connections (no host needs a key for another),
then `sha256sum` on both sides must agree before `mv -n` gives the copy its name.
A copy that fails or is aborted is removed from the target; the source's files
are never touched (as with libvirt's own `--copy-storage-all`).
"""

from __future__ import annotations

import asyncio
import contextlib
import posixpath
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass

from vdctui.drivers.base import DriverError, InvalidOperation
from vdctui.drivers.ssh import commands
from vdctui.drivers.ssh.commands import quote
from vdctui.drivers.ssh.inventory import InventoryHost
from vdctui.drivers.ssh.pool import ConnectionPool

PART = ".vdctui-part"
CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class DiskFile:
    device: str  # vda
    path: str
    size: int = 0

    @property
    def part(self) -> str:
        return self.path + PART


def file_disks(vm: str, xml: str) -> list[DiskFile]:
    """The files a domain's disks are; InvalidOperation (one sentence) for a disk that
    cannot be copied as a file."""
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as exc:
        raise InvalidOperation(f"The definition of {vm} cannot be read: {exc}.") from None
    found = []
    for disk in root.findall("devices/disk"):
        target = disk.find("target")
        device = target.get("dev", "?") if target is not None else "?"
        source = disk.find("source")
        if source is None or not source.attrib:
            continue  # an empty drive
        kind = disk.get("type", "file")
        why = ""
        if kind != "file":
            why = f"is a {kind} disk, not a file"
        elif disk.find("shareable") is not None:
            why = "is shareable (other VMs may use it)"
        elif disk.find("backingStore/source") is not None:
            why = "has a backing file, which would not be copied"
        path = source.get("file", "")
        if not why and not _plain_path(path):
            why = f"has the path {path!r}, which is not a plain absolute path"
        if why:
            raise InvalidOperation(
                f"{vm}'s disk {device} {why}: --copy-storage copies file disks only."
            )
        found.append(DiskFile(device, path))
    return found


def _plain_path(path: str) -> bool:
    return (
        path.startswith("/")
        and posixpath.normpath(path) == path
        and not any(c in path for c in "\n\r\0")
    )


async def disks_to_copy(
    pool: ConnectionPool, vm: str, source: InventoryHost, target: InventoryHost
) -> list[DiskFile]:
    """The file disks a cold --copy-storage move copies, measured; a refusal (nothing
    changed) for a disk that cannot be copied or a file the target already has."""
    out = await pool.run(source, commands.dumpxml(source.uri, vm, migratable=True))
    if out.status != 0:
        raise InvalidOperation(f"Host {source.name} cannot give {vm}'s definition: {out.error}")
    return await measure(pool, vm, source, target, file_disks(vm, out.stdout))


async def measure(
    pool: ConnectionPool,
    vm: str,
    source: InventoryHost,
    target: InventoryHost,
    disks: list[DiskFile],
) -> list[DiskFile]:
    """Each disk's size on the source; refuses one the source cannot read or the target
    already has (a file or a copy left half-way)."""
    sized = []
    for disk in disks:
        out = await pool.run(source, f"stat -c %s -- {quote(disk.path)}")
        if out.status != 0 or not out.stdout.strip().isdigit():
            raise InvalidOperation(
                f"Host {source.name} cannot read {vm}'s disk {disk.path}: {out.error}"
            )
        there = await pool.run(
            target, f"test ! -e {quote(disk.path)} && test ! -e {quote(disk.part)}"
        )
        if there.status != 0:
            raise InvalidOperation(
                f"Host {target.name} already has {disk.path} (or a copy of it left half-way); "
                "the console never overwrites a file."
            )
        sized.append(DiskFile(disk.device, disk.path, int(out.stdout.strip())))
    return sized


async def copy_disk(
    pool: ConnectionPool,
    source: InventoryHost,
    target: InventoryHost,
    disk: DiskFile,
    copied: Callable[[int], None],
    aborted: Callable[[], bool],
) -> None:
    """Stream one disk to the target under its `.vdctui-part` name, check both sides'
    sha256, then name it; DriverError (the part removed) if anything goes wrong."""
    await _must(pool, target, f"mkdir -p -- {quote(posixpath.dirname(disk.path))}")
    reader = await pool.process(source, f"cat -- {quote(disk.path)}", binary=True)
    writer = await pool.process(target, f"cat > {quote(disk.part)}", binary=True)
    try:
        while True:
            if aborted():
                raise DriverError("aborted by the operator")
            chunk = await reader.stdout.read(CHUNK)
            if not chunk:
                break
            writer.stdin.write(chunk)
            await writer.stdin.drain()
            copied(len(chunk))
        writer.stdin.write_eof()
        wrote, read = await asyncio.gather(writer.wait(check=False), reader.wait(check=False))
        if read.exit_status != 0 or wrote.exit_status != 0:
            raise DriverError(f"copying {disk.path} failed: {_text(read.stderr or wrote.stderr)}")
        mine, theirs = await asyncio.gather(
            _must(pool, source, f"sha256sum -- {quote(disk.path)}"),
            _must(pool, target, f"sha256sum -- {quote(disk.part)}"),
        )
        if mine.split()[:1] != theirs.split()[:1]:
            raise DriverError(f"the copy of {disk.path} on {target.name} differs from the source")
        await _must(pool, target, f"mv -n -- {quote(disk.part)} {quote(disk.path)}")
        await _must(pool, target, f"test ! -e {quote(disk.part)}")  # mv -n moved it
    except BaseException:
        reader.close()
        writer.close()
        with contextlib.suppress(Exception):
            await pool.run(target, f"rm -f -- {quote(disk.part)}", read=False)
        raise


async def remove_copies(pool: ConnectionPool, target: InventoryHost, disks: list[DiskFile]) -> None:
    """The files this move wrote on the target, removed (a define that failed, an abort)."""
    for disk in disks:
        with contextlib.suppress(Exception):
            await pool.run(target, f"rm -f -- {quote(disk.path)} {quote(disk.part)}", read=False)


async def _must(pool: ConnectionPool, host: InventoryHost, command: str) -> str:
    out = await pool.run(host, command, read=False)
    if out.status != 0:
        raise DriverError(f"on {host.name}: {out.error}")
    return out.stdout


def _text(data: object) -> str:
    if isinstance(data, bytes):
        return data.decode("utf-8", "replace").strip()
    return str(data or "").strip()
