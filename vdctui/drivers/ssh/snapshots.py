"""Snapshots on real hosts: `virsh snapshot-*` over SSH (a mixin of `SshDriver`).

Listing takes two execs: `snapshot-list --name` (which snapshots), then one virsh
script with each one's `snapshot-dumpxml` (parent, state, time, description,
whether it holds memory) and `snapshot-current --name`. Snapshots are libvirt's
internal ones (qcow2); libvirt does not say the space one holds, so its size is
unknown. A refusal (a raw disk, a VM with snapshots that cannot migrate) comes
back as libvirt's own sentence.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING

from vdctui.drivers.base import InvalidOperation, NoSuchVm
from vdctui.drivers.ssh.commands import Sections, virsh, virsh_script
from vdctui.drivers.ssh.parsers import VirshOutputError
from vdctui.model import Snapshot

if TYPE_CHECKING:
    from collections.abc import Callable

    from vdctui.drivers.ssh.inventory import InventoryHost
    from vdctui.drivers.ssh.pool import ConnectionPool
    from vdctui.model import Vm

SNAPSHOT_TIMEOUT_S = 300.0  # a memory snapshot writes the guest's RAM to its disk


def create_command(uri: str, vm: str, name: str, description: str, *, disk_only: bool) -> str:
    words = ["snapshot-create-as", "--domain", vm, "--name", name, "--atomic"]
    if description:
        words += ["--description", description]
    if disk_only:
        words.append("--disk-only")
    return virsh(uri, *words)


def revert_command(uri: str, vm: str, name: str) -> str:
    return virsh(uri, "snapshot-revert", "--domain", vm, "--snapshotname", name)


def delete_command(uri: str, vm: str, name: str) -> str:
    return virsh(uri, "snapshot-delete", "--domain", vm, "--snapshotname", name)


def names_command(uri: str, vm: str) -> str:
    return virsh(uri, "snapshot-list", "--domain", vm, "--name")


def details_commands(sections: Sections, vm: str, names: list[str]) -> list[list[str]]:
    script: list[list[str]] = []
    for i, name in enumerate(names):
        script += [sections.echo(f"snap-{i}"), ["snapshot-dumpxml", "--domain", vm, name]]
    script += [sections.echo("current"), ["snapshot-current", "--domain", vm, "--name"]]
    return script + [sections.echo("end")]


def parse_names(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def parse_snapshot_xml(text: str, vm: str, current: str | None, datastore: str = "") -> Snapshot:
    """One `<domainsnapshot>` as the console's `Snapshot` (size: unknown)."""
    try:
        root = ET.fromstring(text.strip())
    except ET.ParseError as exc:
        raise VirshOutputError(f"snapshot-dumpxml of {vm} is not XML ({exc})") from None
    name = root.findtext("name")
    if root.tag != "domainsnapshot" or not name:
        raise VirshOutputError(f"snapshot-dumpxml of {vm} has no snapshot name")
    created = root.findtext("creationTime")
    memory = root.find("memory")
    state = (root.findtext("state") or "").strip()
    return Snapshot(
        name=name,
        vm=vm,
        parent=root.findtext("parent/name") or None,
        created=float(created) if created and created.strip().isdigit() else None,
        vm_state=state,
        memory=memory is not None and memory.get("snapshot", "no") not in ("no", ""),
        current=name == current,
        description=root.findtext("description") or "",
        size_bytes=None,
        datastore=datastore,
    )


class SshSnapshots:
    """`HostDriver`'s snapshot calls over virsh; needs SshDriver's `_locate` and `_changed`."""

    pool: ConnectionPool

    async def _locate(self, name: str) -> tuple[InventoryHost, Vm]:
        raise NotImplementedError  # SshDriver's

    def _changed(self) -> None:
        raise NotImplementedError  # SshDriver's

    async def list_snapshots(self, vm: str) -> list[Snapshot]:
        inv, seen = await self._locate(vm)
        listed = await self.pool.run(inv, names_command(inv.uri, vm))
        if listed.status != 0:
            raise InvalidOperation(
                f"Listing the snapshots of VM {vm} on host {inv.name} was refused: {listed.error}"
            )
        names = parse_names(listed.stdout)
        if not names:
            return []
        sections = Sections()
        script = virsh_script(inv.uri, details_commands(sections, vm, names))
        out = await self.pool.run(inv, script)
        parts = sections.split(out.stdout)
        if "end" not in parts:
            raise InvalidOperation(
                f"Reading the snapshots of VM {vm} on host {inv.name} failed: {out.error}"
            )
        current = parts.get("current", "").strip() or None
        return [
            parse_snapshot_xml(parts.get(f"snap-{i}", ""), vm, current, seen.datastore)
            for i in range(len(names))
        ]

    async def create_snapshot(
        self,
        vm: str,
        name: str,
        *,
        description: str = "",
        disk_only: bool = False,
        on_progress: Callable[[float], None] | None = None,
    ) -> Snapshot:
        # no progress: libvirt 9.0 runs an internal snapshot with no job figures
        # (`domjobinfo --rawstats` says "Job type: 0" all through snapshot-create-as in the
        # lab, for a running 288 MiB guest whose snapshot took 0.9 s)
        inv, _ = await self._locate(vm)
        command = create_command(inv.uri, vm, name, description, disk_only=disk_only)
        await self._timed_change(inv, command, f"Snapshot {name} of VM {vm}", vm)
        for snapshot in await self.list_snapshots(vm):
            if snapshot.name == name:
                return snapshot
        raise InvalidOperation(
            f"Host {inv.name} took snapshot {name} of {vm} but does not list it."
        )

    async def revert_snapshot(self, vm: str, name: str) -> None:
        inv, _ = await self._locate(vm)
        command = revert_command(inv.uri, vm, name)
        await self._timed_change(inv, command, f"Reverting VM {vm} to snapshot {name}", vm)

    async def delete_snapshot(self, vm: str, name: str) -> None:
        inv, _ = await self._locate(vm)
        command = delete_command(inv.uri, vm, name)
        await self._timed_change(inv, command, f"Deleting snapshot {name} of VM {vm}", vm)

    async def _timed_change(self, inv: InventoryHost, command: str, what: str, vm: str) -> None:
        """One change with a longer bound than a read's; libvirt's refusal as one sentence."""
        self._changed()
        out = await self.pool.run(inv, command, read=False, timeout=SNAPSHOT_TIMEOUT_S)
        self._changed()
        if out.status != 0:
            error = out.error
            if "failed to get domain" in error:
                raise NoSuchVm(f"There is no VM named {vm!r} on host {inv.name}.")
            raise InvalidOperation(f"{what} on host {inv.name} was refused: {error}")
