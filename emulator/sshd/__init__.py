"""Emulated hosts behind real SSH: asyncssh servers that answer like `virsh` on a KVM host."""

from .files import SshFiles, write_inventory
from .server import Endpoint, Faults, FleetSshServer, Injection, new_key
from .virsh import Virsh

__all__ = [
    "Endpoint",
    "Faults",
    "FleetSshServer",
    "Injection",
    "SshFiles",
    "Virsh",
    "new_key",
    "write_inventory",
]
