"""A migration's max downtime over SSH: set on the source before it starts, put back
when it does not succeed.

`virsh migrate` has no flag for it (libvirt 9): it is a setting of the VM's QEMU on the
source (`migrate-setmaxdowntime`), which outlives a migration that fails, is cancelled
or is refused at its start. So the value it had is read first
(`migrate-getmaxdowntime`), and put back then. After a success the source's QEMU is gone,
and the setting with it: nothing to put back."""

from __future__ import annotations

from dataclasses import dataclass

from vdctui.drivers.base import HostUnreachable, InvalidOperation
from vdctui.drivers.ssh import commands
from vdctui.drivers.ssh.inventory import InventoryHost
from vdctui.drivers.ssh.pool import ConnectionPool

# what virsh says when the VM's QEMU is gone from the host: its setting went with it
GONE = ("domain is not running", "failed to get domain")


@dataclass(frozen=True, slots=True)
class MaxDowntimeChange:
    """The max downtime set on `host` for one migration of `vm`, and what it was before."""

    host: InventoryHost
    vm: str
    set_ms: int
    before_ms: int

    async def put_back(self, pool: ConnectionPool) -> str:
        """Put the value from before back: "" once done (or when the VM's QEMU is gone,
        and the setting with it), else one sentence saying what stays set."""
        command = commands.set_max_downtime(self.host.uri, self.vm, self.before_ms)
        try:
            out = await pool.run(self.host, command, read=False)
        except HostUnreachable as exc:
            error = str(exc)
        else:
            if out.status == 0 or any(word in out.error for word in GONE):
                return ""
            error = out.error
        return (
            f"The max downtime of {self.vm} on {self.host.name} may still be {self.set_ms} ms: "
            f"putting back its {self.before_ms} ms failed ({error})."
        )


async def set_for_migration(
    pool: ConnectionPool, host: InventoryHost, vm: str, downtime_ms: int
) -> MaxDowntimeChange:
    """Read the VM's max downtime on its source `host`, then set `downtime_ms`; refused
    (nothing changed) when the value from before cannot be read, as it could not be
    put back."""
    out = await pool.run(host, commands.get_max_downtime(host.uri, vm))
    before = out.stdout.strip()
    if out.status != 0 or not before.isdigit():
        why = out.error if out.status != 0 else f"virsh answered {before[:40]!r}"
        raise InvalidOperation(
            f"The max downtime of {vm} on host {host.name} could not be read, so it could not "
            f"be put back if the migration failed; nothing was changed ({why})."
        )
    out = await pool.run(host, commands.set_max_downtime(host.uri, vm, downtime_ms), read=False)
    if out.status != 0:
        raise InvalidOperation(
            f"Setting the max downtime of {vm} on host {host.name} was refused: {out.error}"
        )
    return MaxDowntimeChange(host, vm, int(downtime_ms), int(before))
