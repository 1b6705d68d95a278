"""Parsers of what `LC_ALL=C virsh -q` prints (libvirt 9.x), tolerant of missing fields.

Each parser takes the text of one command's output and returns plain values;
output it cannot make sense of raises `VirshOutputError` (one sentence), never
anything else.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from vdctui.model import MigrationProgress, Nic, VmState


class VirshOutputError(ValueError):
    """virsh printed something this parser cannot read."""


# virDomainState, as `domstats --raw` prints it in state.state
DOMAIN_STATES: dict[int, VmState] = {
    0: VmState.RUNNING,  # no state: a domain virsh lists is defined and active
    1: VmState.RUNNING,
    2: VmState.RUNNING,  # blocked on a resource: still running
    3: VmState.PAUSED,
    4: VmState.SHUTTING_DOWN,
    5: VmState.SHUTOFF,
    6: VmState.CRASHED,
    7: VmState.PAUSED,  # pmsuspended
}

# virsh's words for each state's reason codes (`virsh domstate --reason`), by state.state
STATE_REASONS: dict[int, tuple[str, ...]] = {
    1: ("unknown", "booted", "migrated", "restored", "from snapshot", "unpaused",
        "migration canceled", "save canceled", "event wakeup", "crashed", "post-copy",
        "post-copy failed"),
    2: ("unknown",),
    3: ("unknown", "user", "migrating", "saving", "dumping", "I/O error", "watchdog",
        "from snapshot", "shutting down", "creating snapshot", "crashed", "starting up",
        "post-copy", "post-copy failed", "api error"),
    4: ("unknown", "user"),
    5: ("unknown", "shutdown", "destroyed", "crashed", "migrated", "saved", "failed",
        "from snapshot", "daemon"),
    6: ("unknown", "panicked"),
    7: ("unknown",),
}  # fmt: skip


def state_reason(state_code: int | None, reason_code: int | None) -> str:
    """`state.reason` in virsh's words ("migrating"); "" when not known."""
    if state_code is None or reason_code is None:
        return ""
    words = STATE_REASONS.get(state_code, ())
    return words[reason_code] if 0 <= reason_code < len(words) else ""


# virDomainJobType, as `domjobinfo --rawstats` prints it in "Job type:"
JOB_NONE, JOB_BOUNDED, JOB_UNBOUNDED, JOB_COMPLETED, JOB_FAILED, JOB_CANCELLED = range(6)


def _int(text: str, what: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise VirshOutputError(f"{what} is {text.strip()!r}, not a whole number") from None


def _float(text: str, what: str) -> float:
    try:
        value = float(text.strip())
    except ValueError:
        raise VirshOutputError(f"{what} is {text.strip()!r}, not a number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise VirshOutputError(f"{what} is {text.strip()!r}, not a finite number")
    return value


def _colon_fields(text: str) -> dict[str, str]:
    """`Key:   value` lines (nodeinfo, dominfo) into a dict; other lines are ignored."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip():
            found[key.strip()] = value.strip()
    return found


def _kib_to_mib(text: str, what: str) -> int:
    number, _, unit = text.strip().partition(" ")
    value = _int(number, what)
    if unit.strip() not in ("", "KiB"):
        raise VirshOutputError(f"{what} is in {unit.strip()!r}, not KiB")
    return value // 1024


# --- nodeinfo ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NodeInfo:
    model: str
    cpus: int
    mhz: int
    sockets: int
    cores_per_socket: int
    threads_per_core: int
    numa_cells: int
    memory_mib: int

    @property
    def cores(self) -> int:
        return max(self.sockets * self.cores_per_socket * max(self.numa_cells, 1), 1)


def parse_nodeinfo(text: str) -> NodeInfo:
    f = _colon_fields(text)
    if "CPU(s)" not in f or "Memory size" not in f:
        raise VirshOutputError("nodeinfo printed no CPU(s) or Memory size line")
    mhz_text = f.get("CPU frequency", "0 MHz").split()[0] if f.get("CPU frequency") else "0"
    info = NodeInfo(
        model=f.get("CPU model", ""),
        cpus=_int(f["CPU(s)"], "nodeinfo CPU(s)"),
        mhz=_int(mhz_text, "nodeinfo CPU frequency"),
        sockets=_int(f.get("CPU socket(s)", "1"), "nodeinfo CPU socket(s)"),
        cores_per_socket=_int(f.get("Core(s) per socket", "1"), "nodeinfo Core(s) per socket"),
        threads_per_core=_int(f.get("Thread(s) per core", "1"), "nodeinfo Thread(s) per core"),
        numa_cells=_int(f.get("NUMA cell(s)", "1"), "nodeinfo NUMA cell(s)"),
        memory_mib=_kib_to_mib(f["Memory size"], "nodeinfo Memory size"),
    )
    if info.cpus <= 0 or info.memory_mib <= 0:
        raise VirshOutputError("nodeinfo reports no CPUs or no memory")
    return info


# --- nodememstats ----------------------------------------------------------------------


def parse_nodememstats(text: str) -> int:
    """The machine's total memory in MiB (`total  :  24683656 KiB`)."""
    fields = _colon_fields(text)
    if "total" not in fields:
        raise VirshOutputError("nodememstats printed no total line")
    total = _kib_to_mib(fields["total"], "nodememstats total")
    if total <= 0:
        raise VirshOutputError("nodememstats reports no memory")
    return total


# --- domiflist ----------------------------------------------------------------------------


def parse_domiflist(text: str) -> tuple[Nic, ...]:
    """`Interface Type Source Model MAC` rows (with or without virsh's header)."""
    nics = []
    for raw in text.split("\n"):
        words = raw.split()
        if not words or words[0] == "Interface" or set(words[0]) == {"-"} and len(words) == 1:
            continue
        if len(words) != 5:
            raise VirshOutputError(f"domiflist row {raw.strip()[:60]!r} has not 5 columns")
        name, kind, source, model, mac = words
        nics.append(Nic(name, kind, source, "" if model == "-" else model, mac))
    return tuple(nics)


# --- list --name, pool-list --name ---------------------------------------------------


def parse_names(text: str) -> list[str]:
    """One name a line (virsh pads some lists with trailing spaces); blank lines skipped."""
    names = []
    for line in text.split("\n"):
        name = line.rstrip("\r").rstrip(" ")
        if name:
            names.append(name)
    return names


# --- domstats --raw ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DomStats:
    name: str
    fields: dict[str, str] = field(default_factory=dict)

    def get_int(self, key: str) -> int | None:
        text = self.fields.get(key)
        if text is None:
            return None
        try:
            return int(text)
        except ValueError:
            return None

    def get_float(self, key: str) -> float | None:
        text = self.fields.get(key)
        if text is None:
            return None
        try:
            value = float(text)
        except ValueError:
            return None
        return value if value == value and abs(value) != float("inf") else None

    @property
    def state(self) -> VmState:
        code = self.get_int("state.state")
        if code is None:
            raise VirshOutputError(f"domstats for {self.name!r} has no state.state")
        if code not in DOMAIN_STATES:
            raise VirshOutputError(f"domstats for {self.name!r} has unknown state {code}")
        return DOMAIN_STATES[code]

    @property
    def complete(self) -> bool:
        """Has the figures a Vm needs (KVM prints them; the test driver only state)."""
        return all(
            k in self.fields
            for k in ("vcpu.current", "vcpu.maximum", "balloon.current", "balloon.maximum")
        )


def parse_domstats(text: str) -> list[DomStats]:
    """Blocks of `Domain: 'NAME'` followed by indented `key=value` lines."""
    found: list[DomStats] = []
    current: DomStats | None = None
    fields: dict[str, str] = {}
    for raw in text.split("\n"):
        if raw.startswith("Domain: '"):
            line = raw.rstrip("\r")
            if line.endswith("'") and len(line) > len("Domain: '"):
                current = DomStats(line[len("Domain: '") : -1])
                fields = current.fields
                found.append(current)
                continue
        line = raw.strip()
        if not line:
            continue
        if current is None:
            raise VirshOutputError(f"domstats printed {line[:60]!r} before any domain")
        key, sep, value = line.partition("=")
        if not sep or not key:
            raise VirshOutputError(f"domstats line {line[:60]!r} is not key=value")
        fields[key] = value
    return found


# --- dominfo ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DomInfo:
    name: str
    uuid: str
    state: VmState
    vcpus: int
    cpu_time_s: float | None  # None: not running (dominfo prints no CPU time)
    max_memory_mib: int
    memory_mib: int


def parse_dominfo(text: str) -> DomInfo:
    f = _colon_fields(text)
    for key in ("Name", "State", "CPU(s)", "Max memory", "Used memory"):
        if key not in f:
            raise VirshOutputError(f"dominfo printed no {key!r} line")
    try:
        state = VmState.parse(f["State"])
    except ValueError:
        raise VirshOutputError(f"dominfo State is {f['State']!r}") from None
    cpu_time = f.get("CPU time", "").rstrip("s")
    return DomInfo(
        name=f["Name"],
        uuid=f.get("UUID", ""),
        state=state,
        vcpus=_int(f["CPU(s)"], "dominfo CPU(s)"),
        cpu_time_s=_float(cpu_time, "dominfo CPU time") if cpu_time else None,
        max_memory_mib=_kib_to_mib(f["Max memory"], "dominfo Max memory"),
        memory_mib=_kib_to_mib(f["Used memory"], "dominfo Used memory"),
    )


# --- domjobinfo --rawstats ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class JobInfo:
    job_type: int
    fields: dict[str, str]

    @property
    def active(self) -> bool:
        return self.job_type in (JOB_BOUNDED, JOB_UNBOUNDED)

    def progress(self) -> MigrationProgress:
        def num(key: str) -> float:
            text = self.fields.get(key, "0")
            try:
                value = float(text)
            except ValueError:
                return 0.0
            return value if value == value and abs(value) != float("inf") else 0.0

        if self.active:
            phase = "precopy" if num("memory_iteration") >= 1 else "setup"
        else:
            phase = "done" if self.job_type != JOB_NONE else "setup"
        return MigrationProgress(
            time_elapsed=int(num("time_elapsed")),
            data_total=int(num("data_total")),
            data_processed=int(num("data_processed")),
            data_remaining=int(num("data_remaining")),
            memory_bps=num("memory_bps"),
            memory_dirty_rate=num("memory_dirty_rate"),
            memory_iteration=int(num("memory_iteration")),
            downtime=int(num("downtime")),
            phase=phase,
        )


def parse_jobinfo(text: str) -> JobInfo:
    """`Job type: N`, a blank line, then `field: value` lines."""
    job_type: int | None = None
    fields: dict[str, str] = {}
    for raw in text.split("\n"):
        line = raw.strip()
        if not line:
            continue
        key, sep, value = line.partition(":")
        if not sep:
            raise VirshOutputError(f"domjobinfo line {line[:60]!r} is not 'field: value'")
        if key == "Job type":
            job_type = _int(value, "domjobinfo Job type")
        else:
            fields[key.strip()] = value.strip()
    if job_type is None:
        raise VirshOutputError("domjobinfo printed no 'Job type' line")
    return JobInfo(job_type, fields)
