"""`bench/consolidation.py --engine fleet`: the day stepped in the product's own simulator.

The traces become the emulator's CloudSim-shaped data center (emulator/traced.py: G4/G5
hosts, CloudSim's four VM types with their own MIPS, the replay's first placement, every
host powered on at first), behind the console the TUI and the CLI use (an EmulatedDriver
on an on-demand clock, a Store, a Console). Every 300 s, at each trace sample, the
console syncs and the product's balancer decides and acts through the same code as
`:balance power` and `vdctui balance --apply`: `ops.balancing.recommendations` (demand =
each VM's CPU as last synced) and `apply_moves` (wake the balancer's hosts, migrate one
VM after the other and wait for each, power off the emptied hosts, audited). The
migrations take the time the emulator's pre-copy model gives them, and the day goes on
meanwhile; the next decision is at the next sample after the plan is carried out.

Measured as CloudSim defines its metrics (bench/_cloudsim_sla.py), on the emulator's own
state, every time it steps:
- energy: the emulator's own energy counter (its hosts' power curves at their
  utilization, 0 W while off), over the same 287 intervals as the replay;
- SLATAH: time that hosts up with load spent with less CPU than their VMs ask (a host
  at 100 %, or a VM asking more than one of its host's cores), over the time of hosts up
  with load;
- PDM: CloudSim's convention (a migrating VM gets 90 % of its demand) over the time each
  migration really took in the emulator, over all demand asked; the emulator's own loss
  (the switchover pause, `downtime`) is printed beside it;
- migrations: the ones that completed.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import _replay as replay
import _report as report

from emulator import RUNNING, Fleet, Migration
from emulator.traced import INTERVAL_S, POOL, RecordedDay, build_traced
from vdctui.checks import MAX_OVERCOMMIT
from vdctui.drivers.emulated import EmulatedDriver
from vdctui.model import Role
from vdctui.ops import Console, Identity
from vdctui.ops.balancing import apply_moves, recommendations
from vdctui.store import Store

EPOCH = 1_299_110_400.0  # 2011-03-03 00:00 UTC: sample k plays at k x 300 s past it
MIGRATION_SHARE_LOST = 0.1  # CloudSim: a migrating VM gets 90 % of its demand
SPARE_RAM_MIB = 1 << 20  # --ram cloudsim: RAM does not bound consolidation


@dataclass
class Meter:
    """CloudSim's totals, kept from the fleet's state before each of its steps."""

    fleet: Fleet
    active_s: float = 0.0
    violated_s: float = 0.0
    requested: float = 0.0  # MIPS x s asked by all VMs
    lost_in_migration: float = 0.0  # MIPS x s, CloudSim's 10 % while a VM migrates
    idle_loaded_j: float = 0.0  # drawn by hosts whose VMs all ask nothing (CloudSim: 0 W)
    measuring: bool = True
    _key: tuple[Any, ...] = ()
    _state: tuple[int, int, float, float, float] = (0, 0, 0.0, 0.0, 0.0)

    def wrap(self) -> None:
        """Measure every step the fleet takes, whoever takes it (the driver's ticks
        while a migration runs, the benchmark's moves to the next sample)."""
        step: Callable[[float], None] = self.fleet.step

        def measured(dt: float = 1.0) -> None:
            if self.measuring and dt > 0:
                self.add(dt)
            step(dt)

        self.fleet.step = measured  # type: ignore[method-assign]

    def add(self, dt: float) -> None:
        active, violated, requested, migrating, idle_watts = self.state()
        self.idle_loaded_j += idle_watts * dt
        self.active_s += active * dt
        self.violated_s += violated * dt
        self.requested += requested * dt
        self.lost_in_migration += MIGRATION_SHARE_LOST * migrating * dt

    def state(self) -> tuple[int, int, float, float, float]:
        """Hosts up with load, those short of what their VMs ask, all VMs' demand, the
        demand of the VMs migrating, and the watts of hosts whose VMs ask nothing: read
        again only when it can have changed (a new sample, a migration started or ended,
        a host powered on or off)."""
        f = self.fleet
        key = (
            int(f.now // INTERVAL_S),
            f.migrations_completed,
            f.migrations_failed,
            tuple(f.migrations),
            sum(h.state == "up" for h in f.hosts.values()),
        )
        if key != self._key:
            self._key, self._state = key, self._read()
        return self._state

    def _read(self) -> tuple[int, int, float, float, float]:
        f = self.fleet
        active = violated = 0
        requested = idle_watts = 0.0
        for h in f.hosts.values():
            if h.state != "up":
                continue
            asked = sum(v.level * v.mips for n in h.vm_names if (v := f.vms[n]).state == RUNNING)
            got = min(h.demand_mhz, h.capacity_mhz)
            if got == 0 and h.vm_names:
                idle_watts += h.power_watts
            if got > 0:
                active += 1
                violated += got < asked - 1e-6
            requested += asked
        migrating = sum(f.vms[m.vm].level * f.vms[m.vm].mips for m in f.migrations.values())
        return active, violated, requested, migrating, idle_watts


@dataclass
class Run:
    """How the day went in the fleet, beside its figures."""

    plans: int = 0  # plans carried out (with at least one step)
    overran: int = 0  # samples passed while a plan was still being carried out
    plan_s: list[float] = field(default_factory=list)  # virtual seconds each plan took
    refused: list[str] = field(default_factory=list)
    migrations: list[Migration] = field(default_factory=list)  # as the emulator ran them
    first_plan_j: float = 0.0  # drawn from the start until the first plan was carried out


def day_of(traces: list[list[float]]) -> RecordedDay:
    """The replay's traces (percentages) as the emulator's recorded day (shares)."""
    steps = min(len(t) for t in traces)
    names = tuple(f"t{k:04d}" for k in range(len(traces)))
    return RecordedDay("bench", names, tuple(tuple(x / 100 for x in t[:steps]) for t in traces))


def run_fleet(
    traces: list[list[float]], n_hosts: int, threshold: int, ram: str = "strict"
) -> dict[str, float]:
    """The day in the fleet. `ram` "cloudsim": RAM bounds only the first placement, as
    in CloudSim's examples: the hosts get RAM to spare (1 TiB) once the VMs are placed."""
    return asyncio.run(_run(traces, n_hosts, threshold, ram))


async def _run(
    traces: list[list[float]], n_hosts: int, threshold: int, ram: str
) -> dict[str, float]:
    day = day_of(traces)
    steps = len(day.values[0])
    fleet = build_traced(day, hosts=n_hosts, epoch=EPOCH, target=0.8)
    if ram == "cloudsim":
        for h in fleet.hosts.values():
            h.memory_mib = SPARE_RAM_MIB
    meter = Meter(fleet)
    meter.wrap()
    driver = EmulatedDriver(fleet, speed=None, tick=0.5)
    console = Console(
        Store(":memory:", clock=lambda: fleet.now), driver, Identity("bench", Role.ADMIN)
    )
    run = Run()
    seen: set[int] = set()
    energy_at_start = fleet.energy_j
    end = EPOCH + (steps - 1) * INTERVAL_S
    try:
        await console.sync()
        if ram == "cloudsim":  # nor do vCPUs: a 2-core host takes as many VMs as fit
            await console.set_pool(POOL, cpu_overcommit=MAX_OVERCOMMIT)
        for t in range(steps - 1):
            sample = EPOCH + t * INTERVAL_S
            if fleet.now < sample:
                fleet.step(sample - fleet.now)
            elif t:
                run.overran += 1
                continue  # the last plan is still going on: decide at the next sample
            await console.sync()
            plan = recommendations(console, threshold=threshold, goal="power")
            if not (plan.moves or plan.power_off or plan.power_on):
                continue
            began = fleet.now
            applied = await apply_moves(console, plan)
            run.plans += 1
            run.plan_s.append(fleet.now - began)
            if run.plans == 1:
                run.first_plan_j = fleet.energy_j - energy_at_start
            run.refused += [line for line in applied.lines if "refused" in line]
            run.migrations += [m for m in fleet.finished_migrations if m.id not in seen]
            seen.update(m.id for m in fleet.finished_migrations)
        if fleet.now < end:
            fleet.step(end - fleet.now)
        energy_j = fleet.energy_j - energy_at_start
        if fleet.now > end:  # the last plan ran past the day: leave out what came after
            energy_j -= fleet.power_watts * (fleet.now - end)
    finally:
        meter.measuring = False
        await console.close()
    done = [m for m in run.migrations if m.state == "completed"]
    downtime = sum(
        m.downtime_ms / 1000 * fleet.vms[m.vm].level * fleet.vms[m.vm].mips for m in done
    )
    return {
        "energy_kwh": energy_j / 3.6e6,
        "slatah": meter.violated_s / meter.active_s if meter.active_s else 0.0,
        "pdm": meter.lost_in_migration / meter.requested if meter.requested else 0.0,
        "migrations": fleet.migrations_completed,
        "failed": fleet.migrations_failed,
        "downtime_pdm": downtime / meter.requested if meter.requested else 0.0,
        "migration_s": statistics.median(m.elapsed for m in done) if done else 0.0,
        "plans": run.plans,
        "overran": run.overran,
        "plan_s_max": max(run.plan_s, default=0.0),
        "refused": len(run.refused),
        "idle_loaded_kwh": meter.idle_loaded_j / 3.6e6,
        "first_plan_kwh": run.first_plan_j / 3.6e6,
        "first_plan_s": run.plan_s[0] if run.plan_s else 0.0,
    }


def compare(
    traces: list[list[float]], n_hosts: int, threshold: int, window: int, ram: str = "strict"
) -> None:
    """The balancer at `threshold` in the replay (its own predictor, and the console's:
    the last sample) and in the fleet, on the same traces and hosts; a table, where and
    why they differ, and the time each took."""
    runs: list[tuple[str, dict[str, float], float]] = []
    for w in sorted({window, 1}, reverse=True):
        began = time.perf_counter()
        r = replay.run_ours(traces, n_hosts, "balancer", threshold, w, ram, "full")
        how = "the console's predictor: the last sample" if w == 1 else f"peak of {w} samples"
        runs.append((f"replay, balancer {threshold} ({how})", r, time.perf_counter() - began))
    began = time.perf_counter()
    fleet = run_fleet(traces, n_hosts, threshold, ram)
    runs.append(
        (f"fleet, balancer {threshold} (the console's)", fleet, time.perf_counter() - began)
    )
    print(report.HEADER)
    print("|---|---|---|---|---|---|---|")
    for label, r, _ in runs:
        print(report.row(label, report.Figures.of(r)))
    mips = [m for m, _ in replay.make_vms(traces)]
    ram = sorted(r for _, r in replay.make_vms(traces))
    print(
        f"\nThe fleet: {fleet['plans']:.0f} plans carried out; {fleet['overran']:.0f} of "
        f"{len(traces[0]) - 1} samples passed while one was still being carried out (longest "
        f"{fleet['plan_s_max']:.0f} s: the console migrates one VM after the other and waits "
        f"for each; the replay moves them all at once; the first plan took "
        f"{fleet['first_plan_s']:.0f} s, {fleet['first_plan_kwh']:.2f} kWh drawn until it "
        f"was carried out); {fleet['failed']:.0f} migrations "
        f"failed, {fleet['refused']:.0f} moves refused; a migration took "
        f"{fleet['migration_s']:.1f} s (median, pre-copy over 1 Gbit/s) where CloudSim's "
        f"model gives {statistics.median(ram) / 62.5:.1f} s (RAM / 62.5 MB/s, median); the "
        f"switchover pauses lost {100 * fleet['downtime_pdm']:.5f}% of the demand (the "
        f"emulator's own PDM, beside CloudSim's 10 % convention in the table); "
        f"{len(mips)} VMs, {sum(mips):,.0f} MIPS in all, on {n_hosts} hosts."
    )
    print(
        "Why they differ: the fleet's demand steps at each sample where the replay "
        "interpolates between samples as CloudSim does; the console decides on the CPU it "
        "last synced (the replay's window-1 row is that predictor in the replay's model); "
        "its plans take the time their migrations take, and a VM migrating runs whole on "
        "its source; hosts the balancer powers off are woken only by its own later plans; "
        "energy is the emulator's own integral of its hosts' curves: an empty host draws "
        "its idle power until the plan that powers it off, and a host whose VMs all ask 0 % "
        f"draws it too ({fleet['idle_loaded_kwh']:.2f} kWh of the fleet's energy here), "
        "where CloudSim, and so the replay, counts 0 W for a host at 0 %."
    )
    print("\n" + "; ".join(f"{label}: {s:.0f} s" for label, _, s in runs))
