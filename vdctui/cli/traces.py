"""`--traces DIR` (`vdctui emulate`, `vdctui console`): a new data center whose VMs replay
a folder of recorded CPU traces (PlanetLab's, one file per VM), shaped as CloudSim's
PlanetLab examples (emulator/traced.py). The folder is read and checked where it enters,
when the command line is parsed: a bad one is refused in one sentence."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from vdctui.backend import BackendError, DemoSize, fleet_exists, fleet_path
from vdctui.cli.context import CliContext

if TYPE_CHECKING:
    from emulator.traced import RecordedDay

HELP = (
    "Build the new data center from a folder of CPU traces (one file per VM, a percentage "
    "a line every 5 minutes, as PlanetLab's): CloudSim's PlanetLab setup, each VM replaying "
    "its trace at the clock's time of day (--vms N: N of them, spread over the folder)."
)


class TraceFolder(click.ParamType):
    """A folder of trace files, read and checked: a `RecordedDay`, or one sentence."""

    name = "folder"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from emulator import FleetError
        from emulator.traced import RecordedDay, read_day

        if isinstance(value, RecordedDay):
            return value
        try:
            return read_day(str(value))
        except FleetError as exc:
            self.fail(str(exc), param, ctx)

    def get_metavar(self, param: click.Parameter, ctx: click.Context) -> str:
        return "DIR"


TRACES = TraceFolder()


def traced_size(day: RecordedDay, hosts: int | None, vms: int | None, seed: int) -> DemoSize:
    """The size of a data center replaying `day` (`vms` of its traces, or all of them) on
    `hosts` hosts, or CloudSim's 800 hosts per 1,052 VMs. A `vms` the folder does not
    hold is refused (BackendError, one sentence)."""
    from emulator import FleetError
    from emulator.traced import hosts_for

    try:
        picked = day if vms is None else day.pick(vms)
    except FleetError as exc:
        raise BackendError(str(exc)) from None
    return DemoSize(
        hosts if hosts is not None else hosts_for(len(picked)), len(picked), seed, picked
    )


def new_traced_size(cli: CliContext, day: RecordedDay) -> DemoSize:
    """The size of the console's new data center replaying `day`; refused (BackendError)
    when one exists already at --db, which the console would open instead."""
    if fleet_exists(cli.db):
        raise BackendError(
            f"There is a data center at {fleet_path(cli.db)} already, and --traces builds a "
            "new one: open it without --traces, use another --db, or replace it with "
            "`vdctui emulate --traces DIR --fresh`."
        )
    return traced_size(day, None, None, 0)
