"""What the inventory says about a host, a rack or a group of racks, as Rich text.

Pure functions of what the console last saw, so they are tested without an app. Every
line is laid out for the width it is given: a phrase never wraps in its middle, and a
figure that is not known says `—`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich.text import Text

from vdctui.escape import for_terminal
from vdctui.model import CpuContention, Host, HostState, Rack, RackTotals
from vdctui.ops.contention import pool_line
from vdctui.ops.core_map import HostCores, grid_lines
from vdctui.ops.placement import Allocation, Ratios
from vdctui.ui.widgets.bars import capacity_bar, ratio_bar, sparkline
from vdctui.units import UNKNOWN, format_mib, format_percent
from vdctui.wrapping import phrase_lines

LABEL = 12  # "Rack power  "
STATE_STYLE = {
    HostState.UP: "green",
    HostState.OFF: "dim",
    HostState.CRASHED: "bold red",
    HostState.UNREACHABLE: "bold yellow",
}


def bar_width(width: int) -> int:
    """Bars take what is left beside their label and a short figure, 12 to 30 cells."""
    return max(12, min(30, width - LABEL - 28))


def watts(value: float | None) -> str:
    return UNKNOWN if value is None else f"{value:,.0f} W"


def rack_watts(hosts: Iterable[Host]) -> tuple[float, int]:
    """What the hosts draw together, and how many of them have no power reading."""
    known, unknown = 0.0, 0
    for host in hosts:
        if host.power_watts is None:
            unknown += 1
        else:
            known += host.power_watts
    return known, unknown


def rack_totals(hosts: Sequence[Host]) -> RackTotals:
    """The hosts added up, as the store's `rack_totals()` adds them up in SQL."""
    known, unknown = rack_watts(hosts)
    not_up = sum(1 for h in hosts if h.state is not HostState.UP)
    return RackTotals(len(hosts), known, unknown, not_up)


def kilowatts(hosts: Sequence[Host] | RackTotals) -> str:
    """The hosts' draw in kW: `—` when none is known, "at least" when some are not."""
    totals = hosts if isinstance(hosts, RackTotals) else rack_totals(hosts)
    if totals.hosts and totals.no_reading == totals.hosts:
        return UNKNOWN
    figure = f"{totals.watts / 1000:.1f}"
    return f"≥{figure}" if totals.no_reading else figure


def power_bar(rack: Rack, hosts: Sequence[Host], cells: int) -> Text | None:
    """The rack's draw against its budget; no bar when no host's draw is known."""
    known, unknown = rack_watts(hosts)
    if unknown == len(hosts):
        return None
    return ratio_bar(known, rack.power_budget_kw * 1000, cells)


def host_power(host: Host, rack: Rack | None) -> str:
    """What the host draws, and its share of its rack's budget."""
    drawn = watts(host.power_watts)
    if host.power_watts is None or rack is None or rack.power_budget_kw <= 0:
        return drawn
    share = host.power_watts / (rack.power_budget_kw * 1000)
    return f"{drawn}, {100 * share:.0f}% of the rack's {rack.power_budget_kw:g} kW"


def bmc_says(host: Host) -> str:
    """The power state and health its BMC reports (`—` for what it does not say)."""
    if host.power_state is None and host.health is None:
        return f"power {UNKNOWN} (no BMC reading)"
    state, health = host.power_state or UNKNOWN, host.health or UNKNOWN
    return f"power {for_terminal(state)}, health {for_terminal(health)}"


def state_word(host: Host, maintenance: bool, off_by: str = "") -> str:
    """The host's state as the operator needs it: a host in maintenance says so, a host
    that is off says who powered it off (`off (balancer)`, `off (—)` when not known)."""
    if maintenance and host.state is HostState.UP:
        return "maintenance"
    return f"{host.state} ({off_by})" if off_by else str(host.state)


def host_badges(
    host: Host, held: Allocation, maintenance: bool = False, *, stale: str = "", off_by: str = ""
) -> Text:
    """A host's line in the tree: its name, then what needs attention (a host that did not
    answer: when it last did; a host that is off: who powered it off)."""
    label = Text(for_terminal(host.name))
    if maintenance:
        label.append(" maintenance", style="bold magenta")
    if host.state is not HostState.UP:
        label.append(f" {host.state}", style=STATE_STYLE[host.state])
        if off_by:
            label.append(f" ({off_by})", style="dim")
        if stale:
            label.append(f" {stale}", style="dim")
        if host.power_state is not None:  # unreachable but On: it may still run its VMs
            label.append(f" BMC: {for_terminal(host.power_state)}", style="dim")
        return label
    busy = host.cpu_util
    hot = busy is not None and busy >= 0.9
    label.append(f" {format_percent(busy):>3}%", style="red" if hot else "dim")
    ratio = held.vcpus / max(host.usable_cpus, 1)
    if ratio > Ratios().cpu:
        label.append(f" overcommitted {ratio:.1f}x", style="bold yellow")
    elif ratio > 1:
        label.append(f" {ratio:.1f}x", style="dim")
    if host.usable_memory_mib and held.memory_mib > 0.9 * host.usable_memory_mib:
        label.append(" mem-full", style="red")
    if host.health not in (None, "OK"):
        label.append(f" BMC {for_terminal(host.health or '')}", style="bold red")
    return label


def contention_bar(c: CpuContention, cells: int) -> Text | None:
    """What the shared VMs want against the shared pool (past its end: they wait)."""
    if c.shared_cpus <= 0:
        return None
    return ratio_bar(c.wanted_cpus, float(c.shared_cpus), cells)


def rack_label(rack: Rack, totals: RackTotals) -> Text:
    """A rack's line in the tree, with the draw of all its hosts (a filter hides hosts
    from the tree, never from the rack's power)."""
    label = Text(for_terminal(rack.name))
    label.append(
        f" {kilowatts(totals)}/{rack.power_budget_kw:g} kW",
        style="red" if totals.watts > rack.power_budget_kw * 1000 else "dim",
    )
    if totals.not_up:
        label.append(" !", style="bold red")
    return label


def _items(text: Text, items: Sequence[str], width: int) -> None:
    """Phrases joined with " · ", wrapped between phrases, never inside one."""
    line = 0
    for index, item in enumerate(items):
        sep = " · " if index else ""
        if index and line + len(sep) + len(item) > width:
            text.append("\n")
            sep, line = "", 0
        text.append(sep + item)
        line += len(sep) + len(item)
    text.append("\n")


def _meter(text: Text, label: str, bar: Text | None, figures: str, width: int) -> None:
    """`label  bar  figures` on one line; figures that do not fit beside the bar go on
    under it, in the column after the label, broken between phrases."""
    text.append(label.ljust(LABEL), style="bold")
    room = max(width - LABEL, 10)
    if bar is not None:
        text.append(bar)
        if LABEL + len(bar) + 2 + len(figures) <= width:
            text.append(f"  {figures}\n")
            return
        text.append("\n" + " " * LABEL)
    text.append(("\n" + " " * LABEL).join(phrase_lines(figures, room)) + "\n")


def host_detail(
    host: Host,
    held: Allocation,
    *,
    maintenance: bool,
    rack: Rack | None,
    rack_hosts: Sequence[Host],
    width: int,
    cpu_map: HostCores | None = None,
    contention: CpuContention | None = None,
    why_off: str | None = None,
) -> Text:
    """The host pane: what it is (a host that is off: who powered it off), how busy, what
    it holds against its limits, power, and its core map (which CPU holds which dedicated
    VM's vCPU) when its topology is known."""
    ratios = Ratios()
    cells = bar_width(width)
    up = host.state is HostState.UP
    text = Text()
    text.append(for_terminal(host.name), style="bold")
    text.append(f"  {host.state}", style=STATE_STYLE[host.state])
    if maintenance:
        text.append("  in maintenance", style="bold magenta")
    text.append("\n")
    where = [host.model, f"rack {host.rack}", host.room, host.site]
    _items(text, [for_terminal(item) for item in where], width)
    if host.reason:
        text.append(f"{for_terminal(host.reason)}\n", style="yellow")
    if why_off:
        text.append("\n".join(phrase_lines(for_terminal(why_off), width)) + "\n", style="yellow")
    cores = f"{host.cores} cores / {host.cpus} threads @ {host.mhz} MHz" if host.cpus else ""
    facts = [
        cores or f"CPUs {UNKNOWN}",
        format_mib(host.memory_mib) if host.memory_mib else f"memory {UNKNOWN}",
        f"NIC {host.nic_gbps:g} Gbit/s",
        f"reserved {host.reserved_cpus} CPUs, {format_mib(host.reserved_memory_mib)}",
    ]
    _items(text, facts, width)
    text.append("\n")

    if up and host.cpus and host.cpu_util is not None:
        busy = f"{100 * host.cpu_util:.0f}% of {host.cpus} CPUs"
        _meter(text, "CPU busy", ratio_bar(host.cpu_util, 1.0, cells), busy, width)
    else:
        _meter(text, "CPU busy", None, UNKNOWN, width)
    if up and contention is not None:
        pool = contention_bar(contention, cells)
        _meter(text, "CPU pool", pool, pool_line(contention), width)
    elif up:  # real hosts: their vCPUs' wait is not read
        _meter(text, "CPU pool", None, UNKNOWN, width)
    allowed = int(host.usable_cpus * ratios.cpu)
    overcommit = held.vcpus / max(host.usable_cpus, 1)
    _meter(
        text,
        "vCPUs held",
        ratio_bar(held.vcpus, allowed, cells),
        f"{held.vcpus} of {allowed} ({overcommit:.1f}x, limit {ratios.cpu:g}x)",
        width,
    )
    memory = (
        f"{format_mib(host.memory_used_mib)} used, {format_mib(held.memory_mib)} held"
        f" of {format_mib(host.usable_memory_mib)}"
    )
    _meter(
        text,
        "Memory",
        capacity_bar(host.memory_used_mib, held.memory_mib, host.usable_memory_mib, cells),
        memory,
        width,
    )
    _meter(text, "Host power", None, host_power(host, rack), width)
    _meter(text, "BMC", None, bmc_says(host), width)
    if rack is not None:
        _meter(
            text,
            "Rack power",
            power_bar(rack, rack_hosts, cells),
            f"rack {rack.name}: {kilowatts(rack_hosts)} of {rack.power_budget_kw:g} kW",
            width,
        )
        _meter(text, "Uplink", None, f"rack {rack.name}: {rack.uplink_gbps:g} Gbit/s", width)
    _meter(text, "Storage", None, for_terminal(", ".join(host.datastores)) or "none", width)
    if cpu_map is not None:
        text.append("\nCores", style="bold")
        text.append(
            f"  {len(cpu_map.nodes)} NUMA nodes ({for_terminal(cpu_map.source)})\n", style="dim"
        )
        for line in grid_lines(cpu_map, width=width):
            text.append(for_terminal(line) + "\n")
    text.rstrip()
    return text


def group_detail(
    kind: str,
    name: str,
    hosts: Sequence[Host],
    held: dict[str, Allocation],
    *,
    maintenance: set[str],
    rack: Rack | None,
    width: int,
    off_by: dict[str, str] | None = None,
) -> Text:
    """A site, room or rack: how many hosts are up, and their capacity together; the hosts
    that are not, with who powered them off (`off_by`, by host) for those that are off."""
    cells = bar_width(width)
    up = [h for h in hosts if h.state is HostState.UP]
    cpus = sum(h.usable_cpus for h in up)
    vcpus = sum(held.get(h.name, Allocation()).vcpus for h in up)
    memory = sum(h.usable_memory_mib for h in up)
    used = sum(h.memory_used_mib for h in up)
    measured = [h for h in up if h.cpu_util is not None]
    busy = sum((h.cpu_util or 0.0) * h.cpus for h in measured)
    threads = sum(h.cpus for h in measured)
    in_maintenance = sum(1 for h in hosts if h.name in maintenance)
    text = Text()
    text.append(f"{kind} {name}", style="bold")
    text.append(f"  {len(up)} of {len(hosts)} hosts up")
    if in_maintenance:
        text.append(f", {in_maintenance} in maintenance", style="magenta")
    text.append("\n\n")
    if threads:
        figures = f"{100 * busy / threads:.0f}% of {threads} CPUs"
        _meter(text, "CPU busy", ratio_bar(busy, threads, cells), figures, width)
    else:
        _meter(text, "CPU busy", None, UNKNOWN, width)
    allowed = int(cpus * Ratios().cpu)
    _meter(text, "vCPUs held", ratio_bar(vcpus, allowed, cells), f"{vcpus} of {allowed}", width)
    _meter(
        text,
        "Memory",
        capacity_bar(used, used, memory, cells),
        f"{format_mib(used)} used of {format_mib(memory)}",
        width,
    )
    power = f"{kilowatts(hosts)} kW"
    if rack is not None:
        power += f" of {rack.power_budget_kw:g} kW budget"
        known, unknown = rack_watts(hosts)
        bar = (
            None if unknown == len(hosts) else ratio_bar(known, rack.power_budget_kw * 1000, cells)
        )
        _meter(text, "Power", bar, power, width)
        _meter(text, "Uplink", None, f"{rack.uplink_gbps:g} Gbit/s", width)
    else:
        _meter(text, "Power", None, power, width)
    down = [h for h in hosts if h.state is not HostState.UP]
    if down:
        text.append("\nNot up: ", style="bold red")
        why = off_by or {}
        said = [
            f"{h.name} ({h.state}, {why[h.name]})" if why.get(h.name) else f"{h.name} ({h.state})"
            for h in down[:20]
        ]
        text.append(for_terminal(", ".join(said)))
    text.rstrip()
    return text


def cpu_history(samples: list[float], width: int) -> Text:
    """The host's CPU at its recent syncs: a sparkline on an absolute scale, and its range
    (a steady host draws a flat line; the range says how steady)."""
    line = Text(f"CPU busy, last {len(samples)} syncs  ", style="dim")
    line += sparkline(samples, width=max(10, width - 34))
    if samples:
        low, high = 100 * min(samples), 100 * max(samples)
        line.append(f"  {low:.0f}–{high:.0f}%", style="dim")
    return line


def rack_host_row(host: Host, held: Allocation, maintenance: bool, off_by: str = "") -> list[str]:
    """A row of a rack's host table."""
    up = host.state is HostState.UP
    return [
        host.name,
        state_word(host, maintenance, off_by),
        format_percent(host.cpu_util) if up else UNKNOWN,
        f"{held.vcpus}/{host.usable_cpus}",
        f"{format_mib(host.memory_used_mib)}/{format_mib(host.usable_memory_mib)}",
        UNKNOWN if host.power_watts is None else f"{host.power_watts:,.0f}",
    ]


RACK_HOST_HEADINGS = ("HOST", "STATE", "CPU%", "VCPUS HELD", "MEMORY USED", "WATTS")
