"""Where the console gets its fleet: the composition root for CLI and TUI.

`open_console(db)` opens the console's store at `db` and the embedded emulated
data center beside it (`vdctui.db` -> `vdctui.fleet.db`), creating the demo
data center on first start.

How processes share one data center (issue 10):
- the store (`db`) is shared by every process: changes in write transactions
  (BEGIN IMMEDIATE, bounded busy wait), tasks owned by their process
  (vdctui.store.owners), what a task changes claimed in the transaction that records it;
- the embedded fleet is run by one process, the one that holds the fleet file's lock
  (a console, or a changing command), and shared with every other one: they read what
  it syncs to the store, and it carries out their changes, which they hand it through
  the store (vdctui.fleet_sharing says how and why). When it exits it saves the fleet,
  and the next process to need it (a console at its next sync, a command) takes over.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from vdctui.drivers.pending import PendingDriver
from vdctui.files import (
    damaged_sentence,
    explain,
    integrity_problems,
    writable,
)
from vdctui.fleet_lock import BackendError, FleetLock
from vdctui.model import Role
from vdctui.ops import Console, Identity, Refused
from vdctui.ops.actions import Action
from vdctui.store import Store
from vdctui.store.connection import create_shared_file
from vdctui.store_reads import explain_for as explain_for  # the CLI's and TUI's, from here
from vdctui.store_reads import (
    fleet_path,
    following_the_store,
    identity_for,
    open_store,
)

if TYPE_CHECKING:  # the emulator is imported where used: not before the console's first frame
    import emulator
    from emulator.traced import RecordedDay
    from vdctui.drivers.simulation import Simulation

CATCH_UP_SLICES = 200  # at most this many coarse slices, however long the fleet was closed
# A changing command waits this long for another process that holds the embedded fleet
# (a CLI change finishing) before it says so; $VDCTUI_FLEET_WAIT_S overrides it.
FLEET_WAIT_S = 15.0


def fleet_wait_s() -> float:
    try:
        return max(0.0, min(float(os.environ.get("VDCTUI_FLEET_WAIT_S", FLEET_WAIT_S)), 600.0))
    except ValueError:
        return FLEET_WAIT_S


@dataclass(frozen=True)
class DemoSize:
    hosts: int = 64
    vms: int | None = None  # None: the default demo's VMs per host (600 on 64 hosts)
    seed: int = 0
    traces: RecordedDay | None = None  # a VM per trace: CloudSim's PlanetLab data center

    @property
    def vm_count(self) -> int:
        import emulator

        if self.traces is not None:
            return len(self.traces)
        return emulator.demo_vms_for(self.hosts) if self.vms is None else self.vms

    def build(self, epoch: float) -> emulator.Fleet:
        """A new data center of this size, starting at `epoch`."""
        import emulator
        from emulator.traced import build_traced

        if self.traces is not None:
            return build_traced(self.traces, hosts=self.hosts, seed=self.seed, epoch=epoch)
        return emulator.build_demo(seed=self.seed, hosts=self.hosts, vms=self.vm_count, epoch=epoch)


def fleet_exists(db: Path) -> bool:
    import emulator

    path = fleet_path(db)
    if not path.exists():
        return False
    try:
        fleet_file = emulator.FleetFile(path, read_only=True)  # a look that writes nothing
    except sqlite3.Error:
        return True  # something is there; opening it says what is wrong
    try:
        return fleet_file.exists()
    except sqlite3.Error:
        return True
    finally:
        fleet_file.close()


def catch_up(fleet: emulator.Fleet, now: float | None = None) -> None:
    """Let the fleet live through the wall-clock time it spent closed (coarsely)."""
    elapsed = (time.time() if now is None else now) - fleet.now
    if elapsed <= 0:
        return
    fine = fleet.max_quiet_substep
    fleet.max_quiet_substep = max(fine, elapsed / CATCH_UP_SLICES)
    try:
        fleet.step(elapsed)
    finally:
        fleet.max_quiet_substep = fine


def open_fleet(
    db: Path,
    size: DemoSize,
    *,
    fresh: bool = False,
    on_build: Callable[[Path], None] | None = None,
    read_only: bool = False,
    hosts_seen: int = 0,
) -> tuple[emulator.Fleet, emulator.FleetFile | None]:
    """Load the embedded fleet beside `db`, building the demo on first start: when the
    console's store has seen no host yet. A fleet file missing or emptied beside a store
    that has seen hosts is an error naming it (never a new demo in its place); a
    read-only console (a viewer) reads a file it cannot write without writing it."""
    import emulator

    path = fleet_path(db)
    if fresh and path.exists():
        path.unlink()
        for suffix in ("-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    if hosts_seen and not fresh and not path.exists():
        raise BackendError(_fleet_gone(db, "missing", hosts_seen))
    if path.exists() and not writable(path):
        if read_only:  # a viewer looks without writing
            return _read_fleet(db, hosts_seen), None
        raise BackendError(
            f"The emulated data center {path} is read-only for you: look at it with "
            "--read-only, or fix its permissions (and its folder's)."
        )
    create_shared_file(path)  # group-writable where the umask allows (see the README)
    fleet_file = emulator.FleetFile(path)
    if fleet_file.exists():
        fleet = fleet_file.load()
    else:
        if hosts_seen and not fresh:
            fleet_file.close()
            raise BackendError(_fleet_gone(db, "empty", hosts_seen))
        if on_build:
            on_build(path)
        fleet = size.build(epoch=time.time())  # the embedded data center keeps wall-clock time
        fleet_file.save(fleet)
    return fleet, fleet_file


def _read_fleet(db: Path, hosts_seen: int) -> emulator.Fleet:
    """The fleet beside `db`, read without writing its file (for a read-only console)."""
    import emulator

    path = fleet_path(db)
    if not path.exists():
        raise BackendError(
            f"There is no emulated data center at {path} yet, and a read-only console "
            "does not build one: run a command without --read-only first."
        )
    reader = emulator.FleetFile(path, read_only=True)
    try:
        if not reader.exists():
            raise BackendError(_fleet_gone(db, "empty", hosts_seen))
        fleet = reader.load()
    finally:
        reader.close()
    fleet.file = None
    return fleet


def _fleet_gone(db: Path, how: str, hosts_seen: int) -> str:
    return (
        f"The emulated data center {fleet_path(db)} is {how}, but the console's store {db} "
        f"has seen its {hosts_seen} hosts; restore the file from a backup, or start anew "
        f"with `vdctui --db {db} emulate --fresh`."
    )


def store_console(db: Path, *, read_only: bool = False) -> Console:
    """A console over the store alone (no fleet): for records, roles, and role checks."""
    store = open_store(db)
    try:
        identity = identity_for(store, read_only=read_only)
        return Console(store, PendingDriver(), identity)
    except BaseException:
        store.close()
        raise


def open_store_console(
    db: Path,
    *,
    read_only: bool = False,
    follow: bool = True,
    reads: bool = False,
    shares: bool = False,
    wait_s: float = 0.0,
    speed: float | None = 1.0,
    keeps: str = "",
) -> tuple[Console, FleetLock | None]:
    """The console over its store alone, holding the embedded fleet's lock; it can
    show what it last saw at once, while `attach_embedded` loads the fleet.

    A viewer who cannot have the fleet (another process holds it, or the store is
    not theirs to write) gets a console that follows the store instead (no lock,
    None): it shows what the process holding the fleet last synced, with its age.
    `follow=False` refuses instead (for commands that run the fleet itself).
    `reads`: the command only reads, so it follows the store whatever the role when
    another process holds the fleet. `shares`: its changes are handed to that process
    (vdctui.fleet_sharing; the console keeps its role). Otherwise a changing one waits
    for the fleet up to `wait_s` seconds (the CLI: `fleet_wait_s()`), then says who
    holds it. `keeps`: what keeps the fleet once this process holds it (see FleetLock)."""
    console = store_console(db, read_only=read_only)
    lock = FleetLock(fleet_path(db), db, keeps)
    viewer = console.identity.role is Role.VIEWER or reads or shares
    if viewer and follow and not console.store.writable:
        console.driver = PendingDriver(
            f"This reads the hosts themselves, which needs a process that can write the "
            f"store {db} to ask them (you cannot); the lists show what the store holds."
        )
        return following_the_store(console, ""), None

    def follower() -> Console:
        if not shares:
            return following_the_store(console, lock.holder())
        from vdctui.fleet_sharing import SharedFleet

        sharing = SharedFleet(db, lock, console.identity, speed=speed, wait_s=fleet_wait_s())
        following_the_store(console, lock.holder(), sharing=True)
        console.shared = sharing
        console.driver = PendingDriver(held_elsewhere(lock))  # what is not handed over
        return console

    try:
        if viewer and follow and lock.held_by_another():
            return follower(), None
        lock.acquire(wait_s=0.0 if viewer else wait_s)
    except BackendError as exc:
        if viewer and follow and lock.held_by_another():
            return follower(), None
        console.store.close()
        raise BackendError(str(exc)) from None
    except BaseException:
        console.store.close()
        raise
    return console, lock


def held_elsewhere(lock: FleetLock) -> str:
    """What a command that needs the embedded fleet itself (not handed over: a VM's serial
    console) says while another process holds it."""
    return (
        f"This needs the embedded data center itself, which {lock.holder()} holds; "
        "run it there, or once that process is closed."
    )


async def attach_embedded(
    console: Console,
    lock: FleetLock,
    db: Path,
    *,
    speed: float | None = 1.0,
    size: DemoSize | None = None,
    fresh: bool = False,
    on_build: Callable[[Path], None] | None = None,
) -> None:
    """Load (or build) the embedded fleet in a thread and connect it to the console."""
    import emulator
    from vdctui.drivers.locked import LockedEmulatedDriver

    read_only = not console.store.writable or console.identity.role is Role.VIEWER
    hosts_seen = console.store.count_hosts()

    def load() -> tuple[emulator.Fleet, emulator.FleetFile | None]:
        fleet, fleet_file = open_fleet(
            db,
            size or DemoSize(),
            fresh=fresh,
            on_build=on_build,
            read_only=read_only,
            hosts_seen=hosts_seen,
        )
        if speed is not None:
            catch_up(fleet)
        return fleet, fleet_file

    try:
        fleet, fleet_file = await asyncio.to_thread(load)
    except emulator.FleetError as exc:
        raise BackendError(str(exc)) from exc
    except (sqlite3.Error, OSError) as exc:
        path = fleet_path(db)
        problems = integrity_problems(path)
        if problems and problems != ["file is not a database"]:
            raise BackendError(damaged_sentence(path, problems)) from exc
        raise BackendError(
            f"Cannot open the emulated data center {path}: {explain(exc, [path])} "
            "Move it away or use another --db."
        ) from exc
    from vdctui.fleet_serving import RequestServer

    driver = LockedEmulatedDriver(fleet, lock, fleet_file=fleet_file, speed=speed)
    driver.start_clock()
    console.attach(driver)
    driver.server = RequestServer(console)  # the other processes' changes, carried out here
    driver.server.start()


async def open_console(
    db: Path,
    *,
    read_only: bool = False,
    speed: float | None = 1.0,
    size: DemoSize | None = None,
    fresh: bool = False,
    on_build: Callable[[Path], None] | None = None,
    follow: bool = True,
    reads: bool = False,
    shares: bool = False,
    keeps: str = "",
) -> Console:
    """The console over the embedded emulated data center at `db` (for a viewer who
    cannot have the fleet, one that follows the store: see `open_store_console`). `fresh` throws the
    fleet away first: only for an admin (checked, and a refusal audited, before)."""
    console, lock = open_store_console(
        db,
        read_only=read_only,
        follow=follow,
        reads=reads,
        shares=shares,
        wait_s=fleet_wait_s(),
        speed=speed,
        keeps=keeps,
    )
    if lock is None:
        return console
    try:
        if fresh and fleet_exists(db):
            console.require(Action.EMULATE_FRESH, str(fleet_path(db)))
        await attach_embedded(
            console, lock, db, speed=speed, size=size, fresh=fresh, on_build=on_build
        )
    except Refused as exc:
        console.store.close()
        lock.release()
        raise BackendError(str(exc)) from None
    except BaseException:
        console.store.close()
        lock.release()
        raise
    return console


def emulated_fleet(console: Console) -> Simulation:
    """The simulation behind a console, for the commands that run the emulator itself."""
    simulation = console.driver.simulation()
    if simulation is None:
        raise BackendError("This command needs the embedded emulated data center.")
    return simulation


FIXED_EPOCH = 1_795_000_000.0  # 2026-11-18 08:26:40 UTC


def fixed_console(
    db: Path, *, seed: int = 0, hosts: int = 64, vms: int = 600, role: Role = Role.ADMIN
) -> tuple[Console, EmulatedClock]:
    """A console with nothing left to chance, for tests, screenshots and benchmarks: a
    seeded demo fleet on a clock that moves only when asked, and a store that keeps the
    fleet's time."""
    import emulator
    from vdctui.drivers.emulated import EmulatedDriver

    fleet = emulator.build_demo(seed=seed, hosts=hosts, vms=vms, epoch=FIXED_EPOCH)
    driver = EmulatedDriver(fleet, speed=None, tick=0.5)
    driver.wall_clock = store_clock = lambda: fleet.now  # snapshots' times on the same clock
    store = Store(db, clock=store_clock)
    return Console(store, driver, Identity("operator", role)), EmulatedClock(driver)


class EmulatedClock:
    """The embedded fleet's clock and speed, lent to a UI (which never sees the driver)."""

    def __init__(self, driver: Simulation) -> None:
        self._driver = driver

    def now(self) -> float:
        return self._driver.now()

    @property
    def speed(self) -> float | None:
        return self._driver.speed

    @speed.setter
    def speed(self, value: float | None) -> None:
        self._driver.speed = value
