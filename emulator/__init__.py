"""A standalone simulator of a virtualized fleet: hosts, VMs, live migration, faults, power.

It never imports vdctui; the console's emulated driver adapts it.
"""

from .clock import run_fast, run_realtime
from .demo import HOST_MODELS, HostModel, build_demo, demo_vms_for
from .errors import (
    FleetError,
    FleetFileError,
    HostUnreachable,
    InvalidOperation,
    NoSuchHost,
    NoSuchVm,
)
from .feed import ChangeFeed, Changes
from .fleet import Fleet
from .migration import Migration
from .persist import FleetFile, open_fleet
from .power import power_at
from .state import Event, HostStats
from .topology import Datastore, Host, Network, Rack, Room, Site
from .vm import CRASHED, IN_SHUTDOWN, PAUSED, RUNNING, SHUT_OFF, VM_STATES, Vm
from .workload import Trace, Workload, parse_workload

__all__ = [
    "CRASHED",
    "ChangeFeed",
    "Changes",
    "HOST_MODELS",
    "IN_SHUTDOWN",
    "PAUSED",
    "RUNNING",
    "SHUT_OFF",
    "VM_STATES",
    "Datastore",
    "Event",
    "Fleet",
    "FleetError",
    "FleetFileError",
    "FleetFile",
    "Host",
    "HostModel",
    "HostStats",
    "HostUnreachable",
    "InvalidOperation",
    "Migration",
    "Network",
    "NoSuchHost",
    "NoSuchVm",
    "Rack",
    "Room",
    "Site",
    "Trace",
    "Vm",
    "Workload",
    "build_demo",
    "demo_vms_for",
    "open_fleet",
    "parse_workload",
    "power_at",
    "run_fast",
    "run_realtime",
]
