"""Intrusion alerts from flow records: a port scan, a brute force, an internal sweep.

`detect` is a pure function of the records and the thresholds, over fixed windows of
`window_s` seconds: one source trying more than `ports` ports of one address (a port
scan), more than `attempts` connections to one port of one address (a brute force), or a
VM reaching more than `addresses` internal addresses (a sweep); only new connections
count (replies within one are not attempts). `scan` reads the fleet's
records, keeps each new alert in the store and audits it (`alert.raised`).

Real hosts: the SSH driver keeps no flow records (no packet inspection or conntrack
reading in this console), so nothing is detected there; `scan` says so.
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from vdctui.drivers.base import DriverError
from vdctui.model import Alert, FlowRecord
from vdctui.ops.actions import Action
from vdctui.ops.errors import Refused
from vdctui.ops.handover import fleet_operation

if TYPE_CHECKING:
    from vdctui.ops.console import Console

INTERNAL = ipaddress.IPv4Network("10.0.0.0/8")


@dataclass(frozen=True, slots=True)
class Thresholds:
    window_s: float = 60.0
    ports: int = 100  # distinct ports of one address from one source
    attempts: int = 150  # connections to one port of one address from one source
    addresses: int = 50  # distinct internal addresses reached by one VM

    def __post_init__(self) -> None:
        if self.window_s <= 0 or min(self.ports, self.attempts, self.addresses) < 1:
            raise ValueError("thresholds are positive numbers")


@dataclass(frozen=True, slots=True)
class Finding:
    ts: float  # the start of the window it was seen in
    kind: str
    source: str
    vm: str | None
    detail: str


def detect(records: Iterable[FlowRecord], limits: Thresholds = Thresholds()) -> list[Finding]:
    ports: dict[tuple[int, str, str], set[int]] = defaultdict(set)
    tries: dict[tuple[int, str, str, int], int] = defaultdict(int)
    reached: dict[tuple[int, str], set[str]] = defaultdict(set)
    vm_of: dict[str, str | None] = {}
    for r in records:
        if r.state != "new":  # replies within a connection: not attempts
            continue
        window = int(r.ts // limits.window_s)
        ports[(window, r.src, r.dst)].add(r.port)
        tries[(window, r.src, r.dst, r.port)] += r.count
        vm_of.setdefault(r.dst, r.dst_vm)
        vm_of.setdefault(r.src, r.src_vm)
        if r.src_vm is not None and ipaddress.IPv4Address(r.dst) in INTERNAL:
            reached[(window, r.src)].add(r.dst)
    found: list[Finding] = []
    span = f"in {limits.window_s:g} s"
    for (window, src, dst), seen in ports.items():
        if len(seen) > limits.ports:
            detail = f"{src} tried {len(seen)} ports of {dst} {span}"
            found.append(Finding(window * limits.window_s, "port-scan", src, vm_of[dst], detail))
    for (window, src, dst, port), count in tries.items():
        if count > limits.attempts and len(ports[(window, src, dst)]) <= limits.ports:
            detail = f"{src} made {count} connections to port {port} of {dst} {span}"
            found.append(Finding(window * limits.window_s, "brute-force", src, vm_of[dst], detail))
    for (window, src), addresses in reached.items():
        if len(addresses) > limits.addresses:
            detail = f"{vm_of[src]} ({src}) reached {len(addresses)} internal addresses {span}"
            found.append(
                Finding(window * limits.window_s, "internal-sweep", src, vm_of[src], detail)
            )
    return sorted(found, key=lambda f: (f.ts, f.kind, f.source))


@fleet_operation()
async def scan_recent(
    console: Console, seconds: float, limits: Thresholds = Thresholds()
) -> list[Alert]:
    """`scan` over the last `seconds` of the fleet's own time (the emulated fleet's
    clock, else the store's)."""
    simulation = console.driver.simulation()
    now = simulation.now() if simulation is not None else console.store.now()
    return await scan(console, now - seconds, limits)


async def scan(console: Console, since: float, limits: Thresholds = Thresholds()) -> list[Alert]:
    """Detect in the fleet's records from `since`; keep and audit the new alerts."""
    try:
        records = await console.driver.flow_records(since)
    except DriverError:
        raise Refused(
            f"The {console.backend} backend keeps no flow records: intrusions are not "
            "detected on real hosts (no packet inspection in this console)."
        ) from None
    new: list[Alert] = []
    known = console.store.alerts()
    for finding in detect(records, limits):
        if any(  # the same attack going on into the next window is one alert
            (a.kind, a.source, a.vm) == (finding.kind, finding.source, finding.vm)
            and 0 < finding.ts - a.ts <= limits.window_s
            for a in known + new
        ):
            continue
        alert = console.store.add_alert(
            finding.ts, finding.kind, finding.source, finding.vm, finding.detail
        )
        if alert is not None:
            new.append(alert)
            params = {"kind": alert.kind, "source": alert.source, "detail": alert.detail}
            console.record_audit(Action.ALERT_RAISED, alert.vm or alert.source, params, "ok")
    return new


@fleet_operation(Action.FAULT_ATTACK)
async def inject_attack(console: Console, kind: str, target: str, source: str) -> None:
    """Emulated fleet: start an attack of `kind` on VM `target` from `source` now (an
    internal sweep: from VM `target`); an admin's change, audited."""
    simulation = console.driver.simulation()
    if simulation is None:
        raise Refused("Attacks are injected into the emulated fleet only.")

    async def work() -> None:
        sweep = kind == "internal-sweep"
        await simulation.inject_attack(kind, target if sweep else source, "" if sweep else target)

    await console.change(Action.FAULT_ATTACK, target, {"kind": kind, "source": source}, work)


def alerts(console: Console, *, state: str | None = None) -> list[Alert]:
    return console.store.alerts(state=state)


@fleet_operation(Action.VM_QUARANTINE)
async def quarantine_alert(console: Console, alert_id: int) -> Alert:
    """Answer an alert: its VM in quarantine (through the door), the alert marked so."""
    from vdctui.ops.secgroups import quarantine

    alert = next((a for a in console.store.alerts() if a.id == alert_id), None)
    if alert is None or alert.vm is None:
        raise Refused(f"There is no alert {alert_id} with a VM to quarantine.")
    await quarantine(console, alert.vm, f"alert {alert.id}: {alert.detail}")
    console.store.set_alert_state(alert.id, "quarantined")
    return alert
