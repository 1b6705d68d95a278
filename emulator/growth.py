"""Growth: a new server joins a rack (powered on, empty), or an empty one leaves.

A rack has a number of units (U) and a power budget; a host is taken in only when its
model fits in the units left and its peak draw (the top of its power curve) fits in
what the budget leaves after the peaks of the hosts already there. Refusals say why.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .demo import GIB_MIB, HOST_MODELS, HostModel
from .topology import Host

if TYPE_CHECKING:
    from .fleet import Fleet

GENERIC_UNITS = 1  # a host whose model is not known takes one unit


def host_model(name: str | None) -> HostModel:
    """The model named (the first of HOST_MODELS when None), or InvalidOperation."""
    from .errors import InvalidOperation

    if name is None:
        return HOST_MODELS[0]
    for model in HOST_MODELS:
        if model.name == name:
            return model
    known = ", ".join(m.name for m in HOST_MODELS)
    raise InvalidOperation(f"There is no host model {name!r} (known: {known}).")


def units_of(host: Host) -> int:
    for model in HOST_MODELS:
        if model.name == host.model:
            return model.units
    return GENERIC_UNITS


def rack_room(fleet: Fleet, rack: str) -> tuple[int, float]:
    """(units free, watts of peak draw the budget still allows) in `rack`."""
    r = fleet.racks[rack]
    hosts = [h for h in fleet.hosts.values() if h.rack == rack]
    units = r.units - sum(units_of(h) for h in hosts)
    watts = r.power_budget_kw * 1000.0 - sum(h.power_curve[-1] for h in hosts)
    return units, watts


def why_rack_refuses(fleet: Fleet, rack: str, model: HostModel) -> str | None:
    """Why `rack` cannot take a host of `model`, or None when it can."""
    units, watts = rack_room(fleet, rack)
    if model.units > units:
        return (
            f"rack {rack} is full: {model.name} needs {model.units} U and "
            f"{max(units, 0)} of {fleet.racks[rack].units} U are free"
        )
    peak = model.curve[-1]
    if peak > watts:
        budget = fleet.racks[rack].power_budget_kw
        return (
            f"rack {rack}'s power budget ({budget:g} kW) leaves {max(watts, 0):.0f} W, "
            f"and {model.name} draws up to {peak:.0f} W"
        )
    return None


def next_host_name(fleet: Fleet, rack: str) -> str:
    """`<rack>-hNN`, the first number no host has."""
    k = 1
    while f"{rack}-h{k:02d}" in fleet.hosts:
        k += 1
    return f"{rack}-h{k:02d}"


def add_host(fleet: Fleet, rack: str, model: str | None = None, name: str | None = None) -> Host:
    """Take a new host of `model` into `rack`, powered on and empty; refused (with the
    reason) when the rack has no units or power budget left for it."""
    if rack not in fleet.racks:
        raise fleet.refuse(f"There is no rack named {rack!r}.")
    spec = host_model(model)
    reason = why_rack_refuses(fleet, rack, spec)
    if reason:
        raise fleet.refuse(f"Host not added: {reason}.")
    name = name or next_host_name(fleet, rack)
    host = fleet.add_host(
        name,
        rack,
        model=spec.name,
        cores=spec.cores,
        threads=spec.threads,
        mhz=spec.mhz,
        memory_mib=spec.memory_gib * GIB_MIB,
        nic_gbps=spec.nic_gbps,
        power_curve=spec.curve,
        reserved_cpus=spec.reserved_cpus,
        reserved_memory_mib=spec.reserved_gib * GIB_MIB,
        local_datastore_gib=spec.local_gib,
    )
    fleet.emit("host.added", f"Host {name} ({spec.name}) joined rack {rack}.", name)
    return host


def remove_host(fleet: Fleet, name: str) -> None:
    """Take an empty host out of the data center (its local datastore with it); refused,
    naming its VMs, when it holds any, or while a migration comes in."""
    host = fleet.host(name)
    if host.vm_names:
        names = list(host.vm_names)
        shown = ", ".join(names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")
        raise fleet.refuse(f"Host {name} still holds {len(names)} VM(s): {shown}.")
    incoming = [m.vm for m in fleet.migrations.values() if m.target == name]
    if incoming:
        raise fleet.refuse(f"Host {name} is receiving {', '.join(incoming)}; wait for it.")
    local = fleet._host_local.pop(name, None)
    if local is not None:
        fleet.datastores.pop(local, None)
        fleet.forget("datastore", local)
    # the energy drawn so far stays in the fleet's total; its draw leaves it
    fleet._energy_j += fleet._total_power * (fleet.now - fleet._energy_since)
    fleet._energy_since = fleet.now
    fleet._total_power -= host.power_watts
    del fleet.hosts[name]
    fleet.forget("host", name)
    fleet.emit("host.removed", f"Host {name} left rack {host.rack}.", name)
