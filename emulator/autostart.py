"""Which VMs start with their host (libvirt's autostart flag), kept per VM name."""

from __future__ import annotations

from .hostnets import HostNetworkOps


class AutostartOps(HostNetworkOps):
    def __init__(self, seed: int = 0) -> None:
        super().__init__(seed)
        self.autostart: set[str] = set()

    def set_autostart(self, name: str, on: bool) -> None:
        v = self.vm(name)
        self.check_reachable(v.host)
        if on:
            self.autostart.add(name)
        else:
            self.autostart.discard(name)
        self.touch("vm", name)
        self.emit("vm.autostart", f"VM {name} autostart {'on' if on else 'off'}.", v.host, name)

    def undefine_vm(self, name: str) -> None:
        super().undefine_vm(name)
        self.autostart.discard(name)
