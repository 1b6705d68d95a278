"""An emulated host's `virsh net-list`, `iface-list`, `autostart` and the migration
downtime limit (`migrate-setmaxdowntime`/`migrate-getmaxdowntime`: set before or during
a migration, as libvirt takes it) (a mixin of `Virsh`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..fleet import Fleet
from ..vm import Vm

if TYPE_CHECKING:
    from .virsh import Output

VALUED: dict[str, set[str]] = {
    "net-list": set(),
    "iface-list": set(),
    "autostart": {"domain"},
    "migrate-setmaxdowntime": {"domain", "downtime"},
    "migrate-getmaxdowntime": {"domain"},
}
ORDER: dict[str, list[str]] = {
    "autostart": ["domain"],
    "migrate-setmaxdowntime": ["domain", "downtime"],
    "migrate-getmaxdowntime": ["domain"],
}
DEFAULT_MAX_DOWNTIME_MS = 300  # QEMU's
Opts = dict[str, str]


class ConfigCommands:
    fleet: Fleet
    host: str

    def _domain(self, opts: Opts) -> Vm:
        raise NotImplementedError  # Virsh's

    def cmd_autostart(
        self, opts: Opts, flags: set[str], rest: list[str], stdin: str, out: Output
    ) -> None:
        v = self._domain(opts)
        self.fleet.set_autostart(v.name, "disable" not in flags)
        word = "unmarked as" if "disable" in flags else "marked as"
        out.out.append(f"Domain '{v.name}' {word} autostarted\n")

    def cmd_net_list(
        self, opts: Opts, flags: set[str], rest: list[str], stdin: str, out: Output
    ) -> None:
        for name in self.fleet.host_networks(self.host):
            out.out.append(f"{name}\n" if "name" in flags else f" {name}   active   yes   yes\n")

    def cmd_iface_list(
        self, opts: Opts, flags: set[str], rest: list[str], stdin: str, out: Output
    ) -> None:
        out.out.append(" eth0   active   52:54:00:00:00:01\n")

    def cmd_migrate_setmaxdowntime(
        self, opts: Opts, flags: set[str], rest: list[str], stdin: str, out: Output
    ) -> None:
        from .virsh import VirshError

        v = self._domain(opts)
        text = opts.get("downtime", "")
        if not text.isdigit() or int(text) < 1:
            raise VirshError(
                f"Numeric value '{text}' for <downtime> option is malformed or out of range"
            )
        if v.state == "shut off":
            raise VirshError("Requested operation is not valid: domain is not running")
        v.max_downtime_ms = int(text)  # its QEMU's: gone when it stops (emulator.vm)
        job = self.fleet.migrations.get(v.name)
        if job is not None and job.source == self.host:
            job.max_downtime_ms = float(text)

    def cmd_migrate_getmaxdowntime(
        self, opts: Opts, flags: set[str], rest: list[str], stdin: str, out: Output
    ) -> None:
        from .virsh import VirshError

        v = self._domain(opts)
        if v.state == "shut off":  # no QEMU to ask, as libvirt says
            raise VirshError("Requested operation is not valid: domain is not running")
        out.out.append(f"{v.max_downtime_ms or DEFAULT_MAX_DOWNTIME_MS}\n")
