"""The fault storm: random faults interleaved with operators' changes on an emulated fleet
driven through the ops Console, with the console's guarantees checked after every step.

Faults: host crash, power off (and back on), network partition (and heal), slow link
(and heal), failed migration. Changes: lifecycle, live and cold migrations, evacuations
(running in the background while faults land), HA restarts, exits from maintenance.
After every step, `check` asserts:

- every VM the console has seen is in the store exactly once (never dropped);
- every VM is on exactly one host in the fleet, none active on a host that is down;
- host totals are consistent (VM lists, memory of active VMs within the usable memory,
  datastore usage);
- every ended task has an audit end record naming it, and none is left running once
  nothing runs;
- VMs on hosts that answered are stored where and as the fleet has them.

Seeded (the operator's and the faults' choices); the console's own timing (progress
writes, audit epochs) follows the wall clock, so two runs of a seed may differ slightly.
Used by `bench/fault_storm.py` (long) and the test suite (short).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import emulator
from vdctui.drivers.base import DriverError
from vdctui.drivers.emulated import EmulatedDriver
from vdctui.model import Role, TaskState, VmState
from vdctui.ops import Console, Failed, Identity, Refused
from vdctui.ops.ha import restart_vms_of
from vdctui.store import Store

ACTIVE = ("running", "paused", "in shutdown")
EXPECTED = (Refused, Failed, DriverError)  # what an operator may be told; anything else is a bug


class Broken(AssertionError):
    """An invariant did not hold."""


@dataclass
class Tally:
    steps: int = 0
    faults: int = 0
    changes: int = 0
    refused: int = 0
    checks: int = 0
    kinds: dict[str, int] = field(default_factory=dict)
    refusals: dict[str, int] = field(default_factory=dict)

    def count(self, kind: str) -> None:
        self.kinds[kind] = self.kinds.get(kind, 0) + 1

    def count_refusal(self, kind: str) -> None:
        self.refused += 1
        self.refusals[kind] = self.refusals.get(kind, 0) + 1


class Storm:
    def __init__(self, seed: int, *, hosts: int = 10, vms: int = 50) -> None:
        self.rng = random.Random(seed)
        self.fleet = emulator.build_demo(seed=seed, hosts=hosts, vms=vms)
        self.driver = EmulatedDriver(self.fleet, speed=None, tick=0.5)
        self.console = Console(Store(":memory:"), self.driver, Identity("storm", Role.ADMIN))
        self.tally = Tally()
        self.seen: set[str] = set()
        self.background: list[asyncio.Task[Any]] = []
        self.audit_read = 0  # audit records read so far
        self.ended: set[int] = set()  # tasks with an audit end record
        self.checked: set[int] = set()  # ended tasks checked
        self.task_floor = 0  # every task up to this one is checked
        self.listed: dict[str, tuple[str, str]] = {}  # the fleet as the last sync read it
        self.answering: set[str] = set()
        read = self.driver.list_vms

        async def list_vms(host: str | None = None) -> list[Any]:
            vms = await read(host)
            if host is None:  # a sync: remember what it read, the clock may move meanwhile
                self.listed = {v.name: (str(v.host), v.state.value) for v in vms}
                self.answering = {
                    h for h, x in self.fleet.hosts.items() if x.state == "up" and not x.partitioned
                }
            return vms

        self.driver.list_vms = list_vms  # type: ignore[method-assign]

    # --- the storm ---------------------------------------------------------------

    async def run(self, faults: int) -> Tally:
        await self.console.sync()
        await self.check()
        while self.tally.faults < faults:
            await self.step()
        await self.settle()
        await self.check(quiet=True)
        await self.console.close(abort_migrations=True)
        return self.tally

    async def step(self) -> None:
        self.tally.steps += 1
        roll = self.rng.random()
        if roll < 0.35:
            kind, act = self.fault()
            self.tally.faults += 1
        else:
            kind, act = self.change()
            self.tally.changes += 1
        self.tally.count(kind)
        try:
            await act()
        except EXPECTED:
            self.tally.count_refusal(kind)
        if self.rng.random() < 0.3:
            await self.driver.advance(self.rng.choice((0.5, 2.0, 10.0, 60.0)))
        self._reap()
        await self.console.sync()
        await self.check()

    def _host(self, *, state: str | None = None) -> str | None:
        """A host (in `state`; "up": one that answers), or None."""
        names = sorted(
            h
            for h, x in self.fleet.hosts.items()
            if state is None or (x.state == state and not (state == "up" and x.partitioned))
        )
        return self.rng.choice(names) if names else None

    def _vm(self) -> str:
        """Mostly a VM whose host answers (changes to the others are refused)."""
        f = self.fleet
        names = sorted(f.vms)
        if self.rng.random() < 0.8:
            up = [n for n in names if f.hosts[f.vms[n].host].state == "up"]
            names = [n for n in up if not f.hosts[f.vms[n].host].partitioned] or names
        return self.rng.choice(names)

    def fault(self) -> tuple[str, Callable[[], Awaitable[Any]]]:
        f = self.fleet
        roll = self.rng.random()

        async def do(call: Callable[..., Any], *args: Any) -> None:
            with contextlib.suppress(emulator.FleetError):  # not now (a down host's crash)
                call(*args)

        if roll < 0.12:
            host = self._host(state="up")
            return "crash", lambda: do(f.crash_host, host) if host else _nothing()
        if roll < 0.22:
            host = self._host()
            return "power-off", lambda: do(f.power_off_host, host)
        if roll < 0.5:
            down = [h for h, x in f.hosts.items() if x.state != "up"]
            host = self.rng.choice(sorted(down)) if down else self._host()
            return "power-on", lambda: do(f.power_on_host, host)
        if roll < 0.7:
            host = self._host()
            cut = not f.hosts[str(host)].partitioned
            return "partition" if cut else "heal", lambda: do(f.partition_host, host, cut)
        if roll < 0.85:
            host = self._host()
            factor = self.rng.choice((0.01, 0.1, 0.5, 1.0))
            return "slow-link", lambda: do(f.slow_link, host, factor)
        vm = self._vm() if self.rng.random() < 0.5 else None
        return "failed-migration", lambda: do(f.fail_next_migration, vm)

    def change(self) -> tuple[str, Callable[[], Awaitable[Any]]]:
        c = self.console
        roll = self.rng.random()
        vm = self._vm()
        if roll < 0.3:
            verb = self.rng.choice(("start", "stop", "destroy", "reboot", "suspend", "resume"))
            return f"vm.{verb}", lambda: getattr(c, f"{verb}_vm")(vm)
        if roll < 0.6:
            return "migrate", lambda: self._migrate(vm)
        if roll < 0.7:
            host = self._host(state="up") or self._host()
            return "evacuate", lambda: self._evacuate(str(host))
        if roll < 0.75:
            in_maintenance = sorted(c.hosts_in_maintenance())
            host = self.rng.choice(in_maintenance) if in_maintenance else self._host()
            return "maintenance-exit", lambda: c.exit_maintenance(str(host))
        if roll < 0.85:
            down = sorted(h for h, x in self.fleet.hosts.items() if x.state != "up")
            host = self.rng.choice(down) if down else self._host()
            confirmed = self.rng.random() < 0.3
            return "ha-restart", lambda: restart_vms_of(c, str(host), confirmed=confirmed)
        if roll < 0.9:
            return "resize", lambda: c.resize_vm(vm, vcpus=self.rng.randint(1, 4))
        return "wait", lambda: self.driver.advance(self.rng.choice((5.0, 30.0, 120.0)))

    async def _migrate(self, vm: str) -> None:
        target = self._host(state="up") or self._host()
        known = self.console.store.vm(vm)
        cold = known is not None and known.state is VmState.SHUTOFF
        run = await self.console.migrate_vm(vm, str(target), cold=cold)
        if self.rng.random() < 0.5:
            self.background.append(asyncio.ensure_future(run.wait()))
        else:
            await run.wait()

    async def _evacuate(self, host: str) -> None:
        async def evacuate() -> None:
            try:
                await self.console.enter_maintenance(host, max_per_host=2, max_total=3)
                self.tally.count("evacuated")
            except EXPECTED:
                self.tally.count_refusal("evacuate (in the background)")

        task = asyncio.ensure_future(evacuate())
        self.background.append(task)
        await asyncio.sleep(0)

    def _reap(self) -> None:
        for task in [t for t in self.background if t.done()]:
            self.background.remove(task)
            exc = task.exception()
            if exc is not None and not isinstance(exc, EXPECTED):
                raise exc

    async def settle(self) -> None:
        """Let everything in flight end (time moves on until it has)."""
        for _ in range(10_000):
            self._reap()
            if not self.background and not self.console.running_migrations():
                break
            await self.driver.advance(1.0)
            await asyncio.sleep(0)
        else:
            runs = [f"{r.vm} {r.source}->{r.target}" for r in self.console.running_migrations()]
            active = [f"{t.id} {t.kind} {t.target}" for t in self.console.store.tasks(active=True)]
            raise Broken(
                f"work in flight never ended: {len(self.background)} background, "
                f"migrations {runs}, fleet jobs {sorted(self.fleet.migrations)}, tasks {active}"
            )
        await self.console.sync()

    # --- the guarantees ------------------------------------------------------------

    def ok(self, holds: bool, what: str) -> None:
        self.tally.checks += 1
        if not holds:
            raise Broken(f"step {self.tally.steps}: {what}")

    async def check(self, *, quiet: bool = False) -> None:
        f, store = self.fleet, self.console.store
        stored = store.vms()
        names = [v.name for v in stored]
        self.ok(len(names) == len(set(names)), "a VM is in the store twice")
        self.seen |= set(names)
        self.ok(self.seen <= set(names), f"dropped from the store: {self.seen - set(names)}")
        for name, v in f.vms.items():
            holders = [h for h, x in f.hosts.items() if name in x.vm_names]
            self.ok(holders == [v.host], f"{name} is on {holders}, says it is on {v.host}")
            if f.hosts[v.host].state != "up":
                self.ok(v.state not in ACTIVE, f"{name} is {v.state} on down {v.host}")
        used: dict[str, float] = {}
        for h, x in f.hosts.items():
            self.ok(all(f.vms[n].host == h for n in x.vm_names), f"{h} lists a VM not on it")
            active = sum(f.vms[n].memory_mib for n in x.vm_names if f.vms[n].state in ACTIVE)
            self.ok(
                active <= x.usable_memory_mib,
                f"{h} holds {active} MiB of active VMs, {x.usable_memory_mib} usable",
            )
        for v in f.vms.values():
            used[v.datastore] = used.get(v.datastore, 0.0) + v.disk_gib
        for d, ds in f.datastores.items():
            self.ok(abs(ds.used_gib - used.get(d, 0.0)) < 1e-6, f"datastore {d} totals drift")
        self._tasks_ended(quiet)
        lost = store.unaccounted()
        newer = self.console.reconciler._touched  # read anew after the sync's listing
        for vm in stored:
            if vm.name not in self.listed or vm.name in lost or vm.name in newer:
                continue
            host, state = self.listed[vm.name]
            self.ok(vm.host == host, f"{vm.name} stored on {vm.host}, was listed on {host}")
            self.ok(vm.state.value == state, f"{vm.name} stored {vm.state}, was listed {state}")
        for vm in stored:  # one that no answering host listed is kept, on a silent host
            if vm.name not in self.listed and vm.name not in lost:
                self.ok(
                    vm.host not in self.answering or vm.name in newer,
                    f"{vm.name} is stored on {vm.host}, which answered without it",
                )

    def _tasks_ended(self, quiet: bool) -> None:
        store = self.console.store
        rows = store._db.execute(
            "SELECT id, action, params FROM audit WHERE id > ? ORDER BY id", [self.audit_read]
        ).fetchall()
        for audit_id, action, params in rows:
            self.audit_read = audit_id
            if action.endswith(".end"):
                self.ended.add(json.loads(params).get("task"))
        unchecked = store._db.execute(
            "SELECT id, kind, state FROM tasks WHERE id > ? ORDER BY id", [self.task_floor]
        ).fetchall()
        for task_id, kind, state in unchecked:
            if task_id in self.checked:
                continue
            if TaskState(state).finished:
                self.ok(task_id in self.ended, f"task {task_id} ({kind}) ended, no record")
                self.checked.add(task_id)
            elif quiet:
                self.ok(False, f"task {task_id} ({kind}) is {state} after everything")
        while self.task_floor + 1 in self.checked:
            self.task_floor += 1
        if quiet:
            self.ok(
                all(t.state is not TaskState.RUNNING for t in store.tasks(active=True)),
                "a task runs after everything ended",
            )


async def _nothing() -> None:
    return None


async def storm(seed: int, faults: int, *, hosts: int = 10, vms: int = 50) -> Tally:
    return await Storm(seed, hosts=hosts, vms=vms).run(faults)
