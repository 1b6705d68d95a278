"""The lab: real libvirt + QEMU hypervisor hosts in namespaces on this machine.

`python -m tests.lab up 3 --write-inventory lab.toml` / `status` / `down`.
"""

from tests.lab.hosts import LabError, host_ip, host_name
from tests.lab.lab import Lab

__all__ = ["Lab", "LabError", "host_ip", "host_name"]
