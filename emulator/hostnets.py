"""Which networks each host offers: every network of the fleet, unless unplugged there.

A network is a VLAN the whole fleet shares; `unplug_network` takes it off one host
(a trunk port misconfigured, a bridge not made yet), and a VM on that network can
then not move there: libvirt says "no network with matching name", and so does this.
"""

from __future__ import annotations

from typing import Any

from .faults import FaultOps
from .migration import Migration
from .vm import Vm


class HostNetworkOps(FaultOps):
    def __init__(self, seed: int = 0) -> None:
        super().__init__(seed)
        self.unplugged: dict[str, set[str]] = {}  # host -> networks it does not offer

    def host_networks(self, host: str) -> list[str]:
        self.check_reachable(host)
        missing = self.unplugged.get(host, set())
        return [n for n in self.networks if n not in missing]

    def unplug_network(self, host: str, network: str) -> None:
        self.host(host)
        if network not in self.networks:
            raise self.refuse(f"There is no network named {network!r}.")
        self.unplugged.setdefault(host, set()).add(network)
        self.touch("host", host)
        self.emit("host.network", f"Network {network} is no longer on host {host}.", host)

    def plug_network(self, host: str, network: str) -> None:
        self.host(host)
        self.unplugged.get(host, set()).discard(network)
        self.touch("host", host)
        self.emit("host.network", f"Network {network} is on host {host} again.", host)

    def _check_network(self, v: Vm, host: str) -> None:
        if v.network and v.network in self.unplugged.get(host, set()):
            raise self.refuse(
                f"Network not found: no network with matching name '{v.network}' on {host}"
            )

    def migrate(self, name: str, target: str, **options: Any) -> Migration:
        self._check_network(self.vm(name), target)
        return super().migrate(name, target, **options)

    def move_stopped_vm(self, name: str, host: str) -> Vm:
        self._check_network(self.vm(name), host)
        return super().move_stopped_vm(name, host)
