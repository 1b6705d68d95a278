"""A data center that replays recorded CPU traces: CloudSim's PlanetLab setup.

A folder of traces holds one file per VM, one CPU utilization in percent (0-100) per
line, one line every 5 minutes (PlanetLab's CoMon format, as CloudSim ships it). Its
files, sorted by name, become the VMs of a data center shaped as CloudSim's PlanetLab
examples (see ../shared/traces/planetlab/README.md):

- hosts alternate HP ProLiant ML110 G4 (2 cores x 1860 MHz) and G5 (2 x 2660 MHz),
  4 GiB, 1 Gbit/s, with their SPECpower curves, in one room: every host reaches the
  SAN that holds the VMs' disks, so any VM may go to any host, as in CloudSim;
- a VM has 1 vCPU and its own capacity (`Vm.mips`): four types in contiguous blocks of
  ceil(N/4) in file order, (2500 MIPS, 870 MiB), (2000, 1740), (1000, 1740), (500, 613),
  so its demand is its trace's value x its MIPS whatever host it runs on;
- every trace is `aligned`: the day plays at the fleet clock's time of day on every VM;
- the first placement is best-fit decreasing by the VMs' demand at the start, under
  `target` of a host's capacity (and of one core's), taking the biggest empty host when
  none fits (the trace benchmark's first placement). Every host starts powered on, as a
  data center before its power management: the console's balancer powers the empty ones
  off as its own, so that it may wake them again when the load needs them (CloudSim
  counts an empty host as off from the start).

Everything read from the folder is checked here, where it enters: a missing or empty
folder, a file that is not one percentage per line, a name that is not plain, are
refused in one sentence (`InvalidOperation`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

from .demo import HostModel, lay_out
from .errors import InvalidOperation
from .fleet import Fleet
from .topology import Host
from .vm import RUNNING, Vm

INTERVAL_S = 300.0  # PlanetLab's CoMon samples: one every 5 minutes
G4 = HostModel(
    "hp-ml110-g4",
    2,
    2,
    1860,
    4,
    1.0,
    (86, 89.4, 92.6, 96, 99.5, 102, 106, 108, 112, 114, 117),
    0,
    0,
    160,
)
G5 = HostModel(
    "hp-ml110-g5",
    2,
    2,
    2660,
    4,
    1.0,
    (93.7, 97, 101, 105, 110, 116, 121, 125, 129, 133, 135),
    0,
    0,
    160,
)
VM_TYPES = ((2500.0, 870), (2000.0, 1740), (1000.0, 1740), (500.0, 613))  # (MIPS, MiB)
REFERENCE_HOSTS, REFERENCE_VMS = 800, 1052  # CloudSim's examples on 2011-03-03
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._-]{0,127}")  # PlanetLab's have spaces
MAX_FILES = 100_000
MAX_LINES = 100_000
POOL = "planetlab"


@dataclass(frozen=True, slots=True)
class RecordedDay:
    """The traces of a folder, by file name (sorted), as utilization shares 0..1."""

    folder: str
    names: tuple[str, ...]
    values: tuple[tuple[float, ...], ...]

    def __len__(self) -> int:
        return len(self.names)

    def pick(self, count: int) -> RecordedDay:
        """`count` of its traces, evenly spaced in file order (all when `count` is all)."""
        if not 0 < count <= len(self):
            raise InvalidOperation(
                f"{self.folder} holds {len(self)} traces: give 1 to {len(self)} VMs, not {count}."
            )
        keep = [k * len(self) // count for k in range(count)]
        return RecordedDay(
            self.folder, tuple(self.names[k] for k in keep), tuple(self.values[k] for k in keep)
        )


def read_day(folder: str | Path) -> RecordedDay:
    """Every trace file in `folder` (sorted by name; hidden files left out), or one sentence
    saying what is wrong."""
    path = Path(folder)
    if not path.exists():
        raise InvalidOperation(f"There is no trace folder {str(path)!r}.")
    if not path.is_dir():
        raise InvalidOperation(f"{str(path)!r} is not a folder of trace files.")
    try:
        files = sorted(p for p in path.iterdir() if not p.name.startswith(".") and p.is_file())
    except OSError as exc:
        raise InvalidOperation(
            f"Cannot read the trace folder {str(path)!r}: {exc.strerror}."
        ) from None
    if not files:
        raise InvalidOperation(f"The trace folder {str(path)!r} holds no trace files.")
    if len(files) > MAX_FILES:
        raise InvalidOperation(
            f"The trace folder {str(path)!r} holds {len(files)} files; at most {MAX_FILES}."
        )
    values = tuple(_read_trace(f) for f in files)
    return RecordedDay(str(path), tuple(f.name for f in files), values)


def _read_trace(file: Path) -> tuple[float, ...]:
    where = f"Trace file {file.name!r}"
    if not NAME.fullmatch(file.name):
        raise InvalidOperation(
            f"{where} has a name other than letters, digits, spaces, '.', '_' and '-' "
            "(128 at most)."
        )
    try:
        text = file.read_text(encoding="ascii")
    except UnicodeDecodeError:
        raise InvalidOperation(f"{where} is not text: one CPU percentage (0-100) a line.") from None
    except OSError as exc:
        raise InvalidOperation(f"Cannot read trace file {file.name!r}: {exc.strerror}.") from None
    lines = text.split()
    if not lines:
        raise InvalidOperation(f"{where} is empty: one CPU percentage (0-100) a line.")
    if len(lines) > MAX_LINES:
        raise InvalidOperation(f"{where} has {len(lines)} values; at most {MAX_LINES}.")
    out = []
    for n, word in enumerate(lines, start=1):
        if not (word.isdigit() and len(word) <= 3 and int(word) <= 100):
            shown = word[:20].encode("ascii", "backslashreplace").decode()
            raise InvalidOperation(
                f"{where} value {n} is {shown!r}, not a CPU percentage (a whole number 0-100)."
            )
        out.append(int(word) / 100.0)
    return tuple(out)


def hosts_for(vms: int) -> int:
    """Hosts for `vms` traced VMs when not told: CloudSim's 800 hosts per 1,052 VMs."""
    return max(1, math.ceil(vms * REFERENCE_HOSTS / REFERENCE_VMS))


def vm_types(count: int) -> list[tuple[float, int]]:
    """CloudSim's VM types for `count` VMs: four contiguous blocks of ceil(count/4)."""
    block = math.ceil(count / 4)
    return [VM_TYPES[k // block] for k in range(count)]


def build_traced(
    day: RecordedDay,
    hosts: int | None = None,
    seed: int = 0,
    epoch: float = 0.0,
    target: float = 0.8,
) -> Fleet:
    """A data center whose VMs replay `day`, one trace each (see the module's doc)."""
    hosts = hosts_for(len(day)) if hosts is None else hosts
    fleet = Fleet(seed=seed)
    fleet.now = epoch
    fleet._quiet = True
    host_list = lay_out(fleet, hosts, lambda i: (G4, G5)[i % 2], one_room=True)
    types = vm_types(len(day))
    for name, values in zip(day.names, day.values, strict=True):
        fleet.add_trace(name, values, INTERVAL_S, aligned=True)
    demand = [
        mips * values[int(epoch // INTERVAL_S) % len(values)]
        for (mips, _), values in zip(types, day.values, strict=True)
    ]
    homes = first_placement(host_list, demand, [mib for _, mib in types], target)
    width = max(4, len(str(len(day))))
    san = {room: fleet._room_shared[room][0] for room in fleet.rooms}
    for k, (trace, (mips, mib), h) in enumerate(zip(day.names, types, homes, strict=True)):
        name = f"pl-{k + 1:0{width}d}"
        v = Vm(
            name=name,
            uuid=fleet.vm_uuid(name),
            host=h.name,
            vcpus=1,
            memory_mib=mib,
            max_vcpus=1,
            max_memory_mib=mib,
            disk_gib=2.5,
            datastore=san[h.room],
            network="prod",
            pool=POOL,
            workload=f"trace:{trace}",
            mips=mips,
            state=RUNNING,
            started_at=epoch,
        )
        fleet._attach(v)
        fleet._start_workload(v)
    used = {h.name for h in homes}
    for h in host_list:
        fleet.refresh_host(h)
    fleet._quiet = False
    fleet.emit(
        "fleet.built",
        f"Traced fleet built: {len(host_list)} hosts ({len(used)} with VMs), {len(day)} VMs "
        "replaying recorded CPU traces.",
    )
    return fleet


def first_placement(
    hosts: list[Host], demand: list[float], memory_mib: list[int], target: float
) -> list[Host]:
    """Each VM's host: best-fit decreasing by demand under `target` of a host's capacity
    and of one of its cores, among the hosts already woken; else the biggest host still
    asleep is woken (the first in order on a tie). Refused when no host is left."""
    order = sorted(range(len(demand)), key=lambda k: -demand[k])
    index = {h.name: i for i, h in enumerate(hosts)}
    asleep = sorted(hosts, key=lambda h: (-h.usable_cpus * h.mhz, h.name))
    woken: list[Host] = []
    load = {h.name: 0.0 for h in hosts}
    memory = {h.name: 0 for h in hosts}
    homes: list[Host | None] = [None] * len(demand)
    for k in order:
        fitting = [
            h
            for h in woken
            if memory[h.name] + memory_mib[k] <= h.usable_memory_mib
            and load[h.name] + demand[k] <= target * h.usable_cpus * h.mhz
            and demand[k] <= target * h.mhz
        ]
        if fitting:
            h = min(fitting, key=lambda x: (x.usable_cpus * x.mhz - load[x.name], index[x.name]))
        elif len(woken) < len(asleep):
            h = asleep[len(woken)]
            woken.append(h)
        else:
            raise InvalidOperation(
                f"{len(hosts)} hosts have no room for {len(demand)} traced VMs: give more hosts."
            )
        load[h.name] += demand[k]
        memory[h.name] += memory_mib[k]
        homes[k] = h
    return [h for h in homes if h is not None]
