"""The SSH driver: real KVM/Xen hosts (or emulated ones) over asyncssh, running `virsh`."""

from vdctui.drivers.ssh.driver import SshDriver
from vdctui.drivers.ssh.hostkeys import HostKeyBook, HostKeyRefused, Verdict, fingerprint
from vdctui.drivers.ssh.inventory import Inventory, InventoryError, InventoryHost, load_inventory
from vdctui.drivers.ssh.pool import PoolLimits

__all__ = [
    "HostKeyBook",
    "HostKeyRefused",
    "Inventory",
    "InventoryError",
    "InventoryHost",
    "PoolLimits",
    "SshDriver",
    "Verdict",
    "fingerprint",
    "load_inventory",
]
