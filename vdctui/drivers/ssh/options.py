"""Migration options as `virsh migrate` flags; what virsh cannot be told is refused.

The max downtime has no `virsh migrate` flag (libvirt 9): it is set on the source with
`virsh migrate-setmaxdowntime` just before the migration starts, and the migration takes
it (seen in the lab: `domjobinfo` then says that expected downtime)."""

from __future__ import annotations

from vdctui.drivers.base import InvalidOperation
from vdctui.model import MigrationOptions


def option_flags(options: MigrationOptions, *, p2p: bool) -> list[str]:
    """The flags for `options` (after --live/--offline, --p2p and the rest)."""
    if options.tunnelled and not p2p:
        raise InvalidOperation(
            "Option tunnelled needs peer-to-peer migration; this source host migrates "
            'directly (migration = "direct" in the inventory).'
        )
    flags = []
    if options.copy_storage == "full":
        flags.append("--copy-storage-all")
    elif options.copy_storage == "incremental":
        flags.append("--copy-storage-inc")
    if options.compressed:
        flags.append("--compressed")
    if options.auto_converge:
        flags.append("--auto-converge")
    if options.postcopy:
        flags += ["--postcopy", "--postcopy-after-precopy"]
    if options.bandwidth_mib_s is not None:
        flags += ["--bandwidth", str(int(options.bandwidth_mib_s))]
    if options.tunnelled:
        flags.append("--tunnelled")
    return flags
