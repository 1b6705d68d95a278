"""`vdctui emulate`: run the embedded emulated data center headless."""

from __future__ import annotations

import asyncio
import gc
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from vdctui import checks
from vdctui.backend import (
    BackendError,
    DemoSize,
    emulated_fleet,
    fleet_exists,
    fleet_path,
    open_console,
)
from vdctui.cli.context import CliContext, confirm, fail, pass_cli, progress_line
from vdctui.cli.output import say
from vdctui.cli.params import SPEED, WholeNumber
from vdctui.cli.traces import HELP as TRACES_HELP
from vdctui.cli.traces import TRACES, traced_size
from vdctui.fleet_lock import FleetLock
from vdctui.ops import Console
from vdctui.ops.actions import Action
from vdctui.units import format_duration, parse_duration_s

if TYPE_CHECKING:
    from emulator.traced import RecordedDay
    from vdctui.drivers.simulation import Simulation

STATUS_EVERY_S = 5.0
SYNC_EVERY_S = 2.0  # as the console does
GC_THRESHOLDS = (50_000, 50, 100)  # young collections, then every 50 and 50 x 100 of them
SEED = WholeNumber(-checks.MAX_SEED - 1, checks.MAX_SEED)


def _duration(_ctx: click.Context, _param: click.Parameter, value: str | None) -> float | None:
    if value is None:
        return None
    try:
        seconds = parse_duration_s(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    if not 0 < seconds <= checks.MAX_DURATION_S:
        raise click.BadParameter("give a duration above zero and at most a century.")
    return seconds


def _loopback(_ctx: click.Context, _param: click.Parameter, value: str | None) -> int | None:
    if value is None:
        return None
    host, _, port = value.rpartition(":")
    if host != "127.0.0.1":
        raise click.BadParameter("emulated hosts listen on loopback only: 127.0.0.1:PORT.")
    if not port.isdigit() or int(port) > 65535:
        raise click.BadParameter(f"{port!r} is not a port number.")
    return int(port)


@click.command()
@click.option(
    "--hosts",
    type=click.IntRange(1, 100_000),
    default=64,
    show_default=True,
    help="Hosts in a new data center.",
)
@click.option(
    "--vms",
    type=click.IntRange(0, 1_000_000),
    default=None,
    help="VMs in a new data center  [default: 600 on 64 hosts, as many per host on others]",
)
@click.option("--seed", type=SEED, default=0, show_default=True, help="Seed of a new data center.")
@click.option(
    "--for",
    "duration",
    callback=_duration,
    metavar="DURATION",
    help="Simulate this much time as fast as possible (90s, 15m, 2h, 1d), then stop. "
    "Without it the fleet runs in real time until Ctrl-C.",
)
@click.option(
    "--speed",
    type=SPEED,
    default=1.0,
    show_default=True,
    help="Virtual seconds per wall second when running in real time.",
)
@click.option("--traces", type=TRACES, default=None, help=TRACES_HELP)
@click.option("--fresh", is_flag=True, help="Throw the existing data center away and build anew.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask before --fresh deletes.")
@click.option(
    "--serve-ssh",
    "serve_ssh",
    callback=_loopback,
    metavar="127.0.0.1:PORT",
    help="Serve every host over SSH on 127.0.0.1 (hosts on PORT, PORT+1, ...; "
    "PORT 0: any free ports), answering virsh like a KVM host.",
)
@click.option(
    "--write-inventory",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE.toml",
    help="With --serve-ssh: write an inventory for "
    "`vdctui --inventory`, with a known_hosts file and a client key beside it.",
)
@click.option(
    "--bastion",
    is_flag=True,
    help="With --serve-ssh: one bastion on PORT; the hosts are reachable only through it, by name.",
)
@click.option(
    "--bmc",
    is_flag=True,
    help="With --serve-ssh: also a Redfish BMC per host on 127.0.0.1 (HTTPS), for power "
    "and fencing; --write-inventory writes its bmc keys.",
)
@pass_cli
def emulate(
    cli: CliContext,
    hosts: int,
    vms: int | None,
    seed: int,
    duration: float | None,
    speed: float,
    traces: RecordedDay | None,
    fresh: bool,
    yes: bool,
    serve_ssh: int | None,
    write_inventory: Path | None,
    bastion: bool,
    bmc: bool,
) -> None:
    """Run the embedded emulated data center headless and print a summary.

    The data center lives beside --db and is created on first start with
    --hosts, --vms and --seed; later runs continue it where it was.
    """
    if serve_ssh is None and (write_inventory or bastion or bmc):
        fail("--write-inventory, --bastion and --bmc go with --serve-ssh 127.0.0.1:PORT.")
    if serve_ssh is not None and duration is not None:
        fail("--serve-ssh runs in real time; leave out --for.")
    ssh = None if serve_ssh is None else SshServing(serve_ssh, write_inventory, bastion, bmc)
    refuse_beside_a_keeper(cli, fresh)
    size = DemoSize(hosts, vms, seed)
    if traces is not None:
        try:
            size = traced_size(traces, hosts if _given("hosts") else None, vms, seed)
        except BackendError as exc:
            fail(str(exc))
    existing = fleet_exists(cli.db)
    if fresh and existing:
        cli.require(Action.EMULATE_FRESH, str(fleet_path(cli.db)))
    if fresh and existing and not yes:
        confirm(f"Delete the emulated data center at {fleet_path(cli.db)}?")
    if existing and not fresh and _sizes_given():
        say(
            f"vdctui: using the existing data center at {fleet_path(cli.db)}; --hosts, "
            "--vms, --seed and --traces apply to a new one (see --fresh).",
            err=True,
        )
    try:
        summary = asyncio.run(_emulate(cli.db, cli.read_only, size, duration, speed, fresh, ssh))
    except BackendError as exc:
        fail(str(exc))
    _print_summary(summary)


def refuse_beside_a_keeper(cli: CliContext, fresh: bool) -> None:
    """Another process that runs the data center until it is closed (a console, or
    `vdctui emulate` in real time) is not waited for: one sentence at once, saying who
    and what to do (a --fresh so refused is audited). A command that holds the fleet
    only while it finishes is waited for, as any change waits for it."""
    lock = FleetLock(fleet_path(cli.db), cli.db)
    keeper = lock.keeper() if lock.held_by_another() else ""
    if not keeper:
        return
    why = (
        f"The data center {cli.db} is already running in {keeper} ({lock.holder()}), "
        "which carries out every other command's changes; stop it there to run it here, "
        "or use another --db."
    )
    if fresh:
        cli.require(Action.EMULATE_FRESH, str(fleet_path(cli.db)))  # the role first

        async def audit(console: Console) -> None:
            console.record_audit(Action.EMULATE_FRESH, str(fleet_path(cli.db)), {}, "refused", why)

        cli.run(audit, sync=False, fleet=False)
    fail(why)


@dataclass
class SshServing:
    """`--serve-ssh`: the emulated hosts behind asyncssh servers on 127.0.0.1."""

    port: int
    inventory: Path | None
    bastion: bool
    bmc: bool = False

    async def start(self, fleet: Any, db: Path) -> Served:
        from emulator.redfish import BmcFiles, FleetRedfish
        from emulator.sshd import FleetSshServer, SshFiles, write_inventory

        keys_dir = (
            self.inventory.with_suffix(".keys")
            if self.inventory
            else db.with_name(f"{db.stem}.ssh")
        )
        files = SshFiles(keys_dir)
        names = sorted(fleet.hosts)
        server = FleetSshServer(fleet, [files.client_key()], host_keys=files.host_keys(names))
        try:
            if self.bastion:
                await server.start(names)
                await server.start_bastion(
                    files.host_keys(["@bastion"])["@bastion"], port=self.port
                )
            else:
                await server.start(names, base_port=self.port)
        except OSError as exc:
            await server.close()
            raise BackendError(f"Cannot listen on 127.0.0.1: {exc.strerror}.") from None
        ports = sorted(e.port for e in server.endpoints.values())
        where = (
            f"a bastion on 127.0.0.1:{server.bastion.port}"
            if server.bastion
            else f"127.0.0.1 ports {ports[0]}-{ports[-1]}"
        )
        say(f"Serving {len(names)} emulated hosts over SSH via {where}.", err=True)
        bmcs = FleetRedfish(fleet, BmcFiles(keys_dir / "bmc")) if self.bmc else None
        served = Served(server, bmcs)
        if bmcs is not None:
            try:
                await bmcs.start(names)
            except OSError as exc:
                await served.close()
                raise BackendError(f"Cannot serve the BMCs on 127.0.0.1: {exc}.") from None
            say(f"Serving a Redfish BMC per host over HTTPS on 127.0.0.1 ({len(names)} "
                "ports, in the inventory).", err=True)  # fmt: skip
        if self.inventory is not None:
            write_inventory(
                self.inventory, fleet, server, files, via_bastion=self.bastion, bmcs=bmcs
            )
            say(
                f"Wrote {self.inventory}; try: vdctui --inventory {self.inventory} host list",
                err=True,
            )
        return served


@dataclass
class Served:
    """What `--serve-ssh` started: the SSH endpoints, and with --bmc the BMCs."""

    ssh: Any
    bmcs: Any = None

    async def close(self) -> None:
        if self.bmcs is not None:
            await self.bmcs.close()
        await self.ssh.close()


def _given(param: str) -> bool:
    source = click.get_current_context().get_parameter_source(param)
    return source is not None and source.name == "COMMANDLINE"


def _sizes_given() -> bool:
    return any(_given(p) for p in ("hosts", "vms", "seed", "traces"))


async def _emulate(
    db: Path,
    read_only: bool,
    size: DemoSize,
    duration: float | None,
    speed: float,
    fresh: bool,
    ssh: SshServing | None = None,
) -> dict[str, Any]:
    def building(path: Path) -> None:
        replaying = f" replaying the traces in {size.traces.folder}" if size.traces else ""
        say(
            f"Building a data center of {size.hosts} hosts and {size.vm_count} VMs{replaying} "
            f"(seed {size.seed}) in {path} ...",
            err=True,
        )

    console = await open_console(
        db,
        read_only=read_only,
        size=size,
        fresh=fresh,
        speed=None if duration is not None else speed,
        on_build=building,
        follow=False,
        keeps="" if duration is not None else "vdctui emulate",  # in real time: till stopped
    )
    try:
        driver = emulated_fleet(console)
        start = driver.fleet.summary()
        if duration is not None:
            await _run_fast(driver, duration)
        elif ssh is not None:
            served = await ssh.start(driver.fleet, db)
            try:
                await _run_realtime(console, driver, speed)
            finally:
                await served.close()
        else:
            await _run_realtime(console, driver, speed)
        await console.sync()
        summary = driver.fleet.summary()
        summary["simulated_s"] = summary["virtual_seconds"] - start["virtual_seconds"]
        summary["run_kwh"] = summary["energy_kwh"] - start["energy_kwh"]
        return summary
    finally:
        await console.close()


async def _run_fast(driver: Simulation, duration: float) -> None:
    chunk = max(duration / 20, driver.tick)
    done = 0.0
    while done < duration:
        step = min(chunk, duration - done)
        await driver.advance(step)
        done += step
        progress_line(f"{format_duration(done)} of {format_duration(duration)} simulated")
    progress_line(None)


async def _run_realtime(console: Console, driver: Simulation, speed: float) -> None:
    """Run the fleet at `speed` until Ctrl-C, syncing the store every SYNC_EVERY_S so that
    every other process sees the fleet (and the changes it carries out for them)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGINT, stop.set)
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    say(f"Running in real time at {speed:g}x; Ctrl-C stops.", err=True)
    # the data center's objects, built once and kept till the end, left out of the cycle
    # collector's full passes: at 500 hosts each pass took 60-70 ms, in the middle of
    # what the process was doing (answering SSH polls: bench/ssh_fanout.py); and young
    # objects collected every 50,000 allocations (GC_THRESHOLDS), not 700: answering a
    # poll makes thousands, freed as they go (-10% of this process's CPU a cold refresh)
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    began = synced = time.monotonic()
    try:
        while not stop.is_set():
            await driver.next_step()
            if time.monotonic() - synced >= SYNC_EVERY_S:
                await console.sync()
                synced = time.monotonic()
            if time.monotonic() - began >= STATUS_EVERY_S:
                began = time.monotonic()
                s = driver.fleet.summary()
                say(
                    f"{s['running']} of {s['vms']} VMs running, "
                    f"{s['migrations_completed']} migrations, "
                    f"{s['energy_kwh']:.2f} kWh",
                    err=True,
                )
    finally:
        loop.remove_signal_handler(signal.SIGINT)
        loop.remove_signal_handler(signal.SIGTERM)


def _print_summary(s: dict[str, Any]) -> None:
    say(f"simulated:        {format_duration(s['simulated_s'])}")
    say(f"VMs:              {s['vms']} ({s['running']} running)")
    say(f"migrations:       {s['migrations_completed']} completed, {s['migrations_failed']} failed")
    say(f"host failures:    {s['host_failures']}")
    say(
        f"energy:           {s['run_kwh']:.2f} kWh in this run, "
        f"{s['energy_kwh']:.2f} kWh since the data center was built"
    )
