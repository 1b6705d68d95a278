"""An emulated host's `virsh net-list` and `iface-list` (a mixin of `Virsh`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..fleet import Fleet
from ..vm import Vm

if TYPE_CHECKING:
    from .virsh import Output

VALUED: dict[str, set[str]] = {"net-list": set(), "iface-list": set(), "autostart": {"domain"}}
ORDER: dict[str, list[str]] = {"autostart": ["domain"]}
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
