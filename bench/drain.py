"""Failed requests during a rack's evacuation, with and without draining.

The same emulated data center (seed, size) twice: 4 services of 6 members each (web
VMs on shared storage, spread over the racks), 300 requests/s each; then every host of
rack rk1 is put in maintenance, one after the other (live migrations, 2 at a time per
host). Once without draining (a migration's pause fails the requests sent meanwhile),
once with the drain policy (each VM's members drained before it moves, put back after).
The rack's VMs on local disks cannot move and are taken out first, in both runs.

    python bench/drain.py [--hosts 24] [--seed 5]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from dataclasses import dataclass

import emulator
from vdctui.drivers.emulated import EmulatedDriver
from vdctui.model import Role
from vdctui.ops import Console, Identity
from vdctui.ops.drain import DrainPolicy, set_policy
from vdctui.ops.services import add_member, create_service
from vdctui.store import Store

SERVICES, MEMBERS, RATE = 4, 6, 300.0


@dataclass
class Run:
    failed: float
    requests: float
    migrations: int
    virtual_s: float
    wall_s: float


def prepare(hosts: int, seed: int) -> emulator.Fleet:
    fleet = emulator.build_demo(seed=seed, hosts=hosts)
    for vm in list(fleet.vms.values()):
        rack = fleet.hosts[vm.host].rack
        if rack == "rk1" and fleet.datastores[vm.datastore].kind == "local":
            if vm.state != "shut off":
                fleet.destroy_vm(vm.name)
            fleet.undefine_vm(vm.name)
    return fleet


async def evacuate_rack(hosts: int, seed: int, drain: bool) -> Run:
    fleet = prepare(hosts, seed)
    driver = EmulatedDriver(fleet, speed=None, tick=0.5)
    console = Console(Store(":memory:"), driver, Identity("bench", Role.ADMIN))
    await console.sync()
    web = sorted(
        n
        for n, v in fleet.vms.items()
        if v.state == "running"
        and n.startswith("web")
        and fleet.datastores[v.datastore].kind == "shared"
    )
    for k in range(SERVICES):
        name = f"svc{k + 1}"
        await create_service(console, name, vip=f"10.9.0.{k + 1}", port=443, rate=RATE)
        for vm in web[k::SERVICES][:MEMBERS]:
            await add_member(console, name, vm, 8080)
    await driver.advance(60)
    set_policy(console, DrainPolicy(before_migration=drain, timeout_s=120.0))
    failed0 = sum(s.failed for s in fleet.services.values())
    requests0 = sum(s.requests for s in fleet.services.values())
    moved0, t0, wall0 = fleet.migrations_completed, fleet.now, time.perf_counter()
    for host in sorted(h for h in fleet.hosts if fleet.hosts[h].rack == "rk1"):
        await console.enter_maintenance(host)
    await driver.advance(30)
    run = Run(
        sum(s.failed for s in fleet.services.values()) - failed0,
        sum(s.requests for s in fleet.services.values()) - requests0,
        fleet.migrations_completed - moved0,
        fleet.now - t0,
        time.perf_counter() - wall0,
    )
    await console.close()
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hosts", type=int, default=24)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    print(
        f"{args.hosts} hosts, seed {args.seed}: {SERVICES} services x {MEMBERS} members, "
        f"{RATE:.0f} req/s each; evacuating every host of rack rk1"
    )
    for drain in (False, True):
        r = asyncio.run(evacuate_rack(args.hosts, args.seed, drain))
        label = "with draining   " if drain else "without draining"
        print(
            f"{label}: {r.failed:8.1f} failed requests of {r.requests:,.0f} "
            f"({r.failed / r.requests:.4%}), {r.migrations} migrations, "
            f"{r.virtual_s:,.0f} virtual s, {r.wall_s:.1f} wall s"
        )


if __name__ == "__main__":
    main()
