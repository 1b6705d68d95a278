"""A realistic demo data center, deterministic for a seed."""

from __future__ import annotations

import math
import random
import zlib
from collections.abc import Callable
from dataclasses import dataclass

from .errors import InvalidOperation
from .fleet import Fleet
from .topology import SHARED, Host
from .vm import RUNNING, Vm

GIB_MIB = 1024


@dataclass(frozen=True, slots=True)
class HostModel:
    name: str
    cores: int
    threads: int
    mhz: int
    memory_gib: int
    nic_gbps: float
    curve: tuple[float, ...]  # SPECpower-like watts at 0..100 %
    reserved_cpus: int
    reserved_gib: int
    local_gib: float
    units: int = 1  # rack units (U) it takes


HOST_MODELS = (
    # 2 x 16-core 2.9 GHz (Xeon Gold 6326-class), 25 GbE
    HostModel(
        "r650-2x16c-256g",
        32,
        64,
        2900,
        256,
        25.0,
        (112, 158, 182, 205, 229, 254, 281, 311, 344, 382, 427),
        2,
        8,
        1788,
    ),
    HostModel(
        "r650-2x16c-512g",
        32,
        64,
        2900,
        512,
        25.0,
        (121, 168, 193, 216, 241, 266, 294, 324, 358, 397, 443),
        2,
        12,
        3576,
    ),
    # 2 x 32-core 2.8 GHz (EPYC 7543-class), 100 GbE
    HostModel(
        "r7525-2x32c-1t",
        64,
        128,
        2800,
        1024,
        100.0,
        (146, 212, 248, 284, 321, 359, 399, 442, 489, 541, 598),
        4,
        16,
        7153,
        2,
    ),
)
MODEL_MIX = (0, 0, 0, 0, 1, 1, 1, 2, 2, 0)  # 50 % small, 30 % medium, 20 % large


@dataclass(frozen=True, slots=True)
class Flavor:
    pool: str
    share: float
    vcpus: int
    memory_gib: int
    max_vcpus: int
    max_memory_gib: int
    disk_gib: int
    network: str
    workloads: tuple[str, ...]
    dirty_mib_s: float  # at 100 % CPU
    shut_off: float  # fraction defined but not running


FLAVORS = (
    Flavor(
        "web",
        0.35,
        2,
        4,
        4,
        8,
        40,
        "prod",
        ("walk:0.3", "trace:diurnal", "constant:0.2"),
        64.0,
        0.03,
    ),
    Flavor("db", 0.10, 8, 32, 16, 64, 200, "prod", ("walk:0.5", "trace:diurnal"), 256.0, 0.02),
    Flavor("batch", 0.20, 16, 16, 32, 32, 100, "prod", ("trace:nightly", "walk:0.7"), 512.0, 0.10),
    Flavor("dev", 0.25, 2, 2, 4, 8, 20, "dev", ("constant:0.05", "walk:0.1"), 16.0, 0.30),
    Flavor("infra", 0.10, 4, 8, 4, 16, 60, "mgmt", ("constant:0.1",), 24.0, 0.02),
)


def _diurnal() -> list[float]:
    return [
        round(0.15 + 0.55 * max(0.0, math.sin((h - 6) / 24 * 2 * math.pi)), 3) for h in range(24)
    ]


DEMO_HOSTS, DEMO_VMS = 64, 600  # the default demo; other sizes keep its VMs per host


def demo_vms_for(hosts: int) -> int:
    """How many VMs a demo of `hosts` hosts holds when not told: the default demo's
    density (600 VMs on 64 hosts), which fits any number of hosts."""
    return max(1, round(hosts * DEMO_VMS / DEMO_HOSTS))


def build_demo(
    seed: int = 0, hosts: int = DEMO_HOSTS, vms: int | None = None, epoch: float = 0.0
) -> Fleet:
    """One site; ~8 hosts per rack (40 when large), 4-25 racks per room, pools of VMs.

    `vms` defaults to `demo_vms_for(hosts)`. `epoch` is the virtual time the data
    center starts at (e.g. UNIX time now).
    """
    if vms is None:
        vms = demo_vms_for(hosts)
    rng = random.Random(seed)
    fleet = Fleet(seed=seed)
    fleet.now = epoch
    fleet._quiet = True
    fleet.add_trace("diurnal", _diurnal(), 3600.0)
    fleet.add_trace("nightly", [0.9] * 5 + [0.1] * 19, 3600.0)
    host_list = lay_out(fleet, hosts, lambda i: HOST_MODELS[MODEL_MIX[i % len(MODEL_MIX)]])
    _place_vms(fleet, rng, host_list, vms)
    for h in host_list:
        fleet.refresh_host(h)
    fleet._quiet = False
    fleet.emit("fleet.built", f"Demo fleet built: {len(host_list)} hosts, {vms} VMs.")
    return fleet


def lay_out(
    fleet: Fleet, hosts: int, model_for: Callable[[int], HostModel], *, one_room: bool = False
) -> list[Host]:
    """One site, its networks, ~8 hosts per rack (40 when large), 4-25 racks per room (or
    all in `one_room`), a SAN and a NAS per room; host i (in the order returned) is of
    model `model_for(i)`."""
    per_rack = 8 if hosts <= 512 else 40
    n_racks = max(1, math.ceil(hosts / per_rack))
    per_room = n_racks if one_room else 4 if n_racks <= 16 else 25
    n_rooms = max(1, math.ceil(n_racks / per_room))
    fleet.add_site("dc1")
    for name, vlan in (("prod", 100), ("dev", 200), ("mgmt", 10)):
        fleet.add_network(name, vlan)
    rw = len(str(n_racks))
    rooms = []
    for i in range(n_rooms):
        room = f"dc1-room{i + 1}"
        rooms.append(room)
        fleet.add_room(room, "dc1")
        fleet.add_datastore(f"san-{i + 1}", SHARED, 500 * 1024, room=room)
        fleet.add_datastore(f"nas-{i + 1}", SHARED, 250 * 1024, room=room)
    host_list: list[Host] = []
    hw = len(str(per_rack))
    for r in range(n_racks):
        rack = f"rk{r + 1:0{rw}d}"
        fleet.add_rack(
            rack,
            rooms[r // per_room],
            power_budget_kw=12.0 if per_rack <= 8 else 24.0,
            uplink_gbps=100.0 if per_rack <= 8 else 400.0,
        )
        for k in range(min(per_rack, hosts - r * per_rack)):
            m = model_for(r * per_rack + k)
            host_list.append(
                fleet.add_host(
                    f"{rack}-h{k + 1:0{max(hw, 2)}d}",
                    rack,
                    model=m.name,
                    cores=m.cores,
                    threads=m.threads,
                    mhz=m.mhz,
                    memory_mib=m.memory_gib * GIB_MIB,
                    nic_gbps=m.nic_gbps,
                    power_curve=m.curve,
                    reserved_cpus=m.reserved_cpus,
                    reserved_memory_mib=m.reserved_gib * GIB_MIB,
                    local_datastore_gib=m.local_gib,
                )
            )
    return host_list


def _uptime(name: str) -> float:
    """How long a demo VM has been up when the data center is built: an hour to 45 days,
    fixed by its name (so the seeded random sequence stays as it was)."""
    return 3600.0 + zlib.crc32(name.encode()) % (45 * 86400)


def _place_vms(fleet: Fleet, rng: random.Random, host_list: list[Host], count: int) -> None:
    if not host_list:
        return
    counts = [int(count * f.share) for f in FLAVORS]
    counts[0] += count - sum(counts)
    free = [h.usable_memory_mib for h in host_list]
    shared = {room: [d for d in fleet._room_shared[room]] for room in fleet.rooms}
    order = [i for i, f in enumerate(FLAVORS) for _ in range(counts[i])]
    rng.shuffle(order)
    seen = [0] * len(FLAVORS)
    cursor = 0
    n = len(host_list)
    for fi in order:
        f = FLAVORS[fi]
        seen[fi] += 1
        name = f"{f.pool}-{seen[fi]:0{max(3, len(str(counts[fi])))}d}"
        mem = f.memory_gib * GIB_MIB
        for _ in range(n):
            idx = cursor % n
            cursor += 1
            if free[idx] >= mem:
                break
        else:
            raise InvalidOperation(
                f"The demo fleet has no host with room for {name}: give it more hosts or fewer VMs."
            )
        free[idx] -= mem
        h = host_list[idx]
        if f.pool == "dev" and rng.random() < 0.3:
            ds = fleet._host_local[h.name]
        else:
            ds = shared[h.room][0 if f.pool in ("db", "batch") else rng.randrange(2)]
        v = Vm(
            name=name,
            uuid=fleet.vm_uuid(name),
            host=h.name,
            vcpus=f.vcpus,
            memory_mib=mem,
            max_vcpus=f.max_vcpus,
            max_memory_mib=f.max_memory_gib * GIB_MIB,
            disk_gib=float(f.disk_gib),
            datastore=ds,
            network=f.network,
            pool=f.pool,
            workload=rng.choice(f.workloads),
            dirty_rate=f.dirty_mib_s * 1048576.0,
            dirty_scales_with_cpu=True,
        )
        fleet._attach(v)
        if rng.random() >= f.shut_off:
            v.state = RUNNING
            v.started_at = fleet.now - _uptime(name)
            fleet._start_workload(v)
