"""Isolation in the TUI: the Security screen (`:security`: each rule of each group, the
flows it let through, the VMs it covers; a VM's effective rules with `vm:NAME`) and the
Alerts screen (`:alerts`: intrusion alerts; `Q` quarantines the alert's VM, after
asking)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual import work
from textual.binding import Binding

from vdctui.columns import Column
from vdctui.model import Alert, SecurityGroup, SecurityRule
from vdctui.ops import Failed, Refused, intrusion
from vdctui.ops import secgroups as sg
from vdctui.ops.intrusion import scan_recent
from vdctui.ui.dialogs.ask import Question
from vdctui.ui.screens.records import RecordsScreen

UNKNOWN = "—"


@dataclass(frozen=True, slots=True)
class RuleRow:
    group: SecurityGroup
    rule: SecurityRule | None  # None: a group without rules (it lets nothing through)
    flows: int | None  # None: the hypervisor does not count


RULE_COLUMNS: list[Column] = [
    ("group", lambda r: r.group.name),
    ("rule", lambda r: UNKNOWN if r.rule is None else r.rule.id),
    ("allows", lambda r: "nothing" if r.rule is None else r.rule.describe()),
    ("flows", lambda r: UNKNOWN if r.flows is None else f"{r.flows:,}"),
    ("vms", lambda r: ", ".join(r.group.members[:6]) + (" …" if len(r.group.members) > 6 else "")),
]


class SecurityScreen(RecordsScreen):
    COLUMNS = RULE_COLUMNS
    FILTER_KEYS = ("group", "vm")
    TITLE_TEXT = "Security groups (allow rules; a VM in groups lets through only these)"

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[RuleRow] = []
        self.note = ""

    def refresh_data(self) -> None:
        self._read()

    @work(exclusive=True, group="security")
    async def _read(self) -> None:
        groups = sg.groups(self.ops)
        uncounted = "Flows are not counted here (real hosts: packets, if iptables is readable)."
        try:  # read through the process that holds the fleet, when another one does
            counts = await sg.flow_counts(self.ops)
        except (Refused, Failed) as exc:
            counts, uncounted = None, f"Flows not counted: {exc}"
        by_rule = None if counts is None else counts.by_rule
        self.note = "" if counts is not None else uncounted
        rows: list[RuleRow] = []
        for g in groups:
            if not g.rules:
                rows.append(RuleRow(g, None, None))
            for r in g.rules:
                rows.append(RuleRow(g, r, None if by_rule is None else by_rule.get(r.id, 0)))
        self.rows = rows
        if not groups:
            self.note = "No security groups: `vdctui secgroup create` makes one."
        if self.is_mounted:
            super().refresh_data()

    def fetch(self, fields: dict[str, str]) -> list[Any]:
        vm = fields.get("vm")
        return [
            r
            for r in self.rows
            if fields.get("group", r.group.name) == r.group.name
            and (vm is None or vm in r.group.members)
        ]

    def status(self) -> str:
        return super().status() + (f"  {self.note}" if self.note else "")


ALERT_COLUMNS: list[Column] = [
    ("id", lambda a: a.id),
    ("state", lambda a: a.state),
    ("kind", lambda a: a.kind),
    ("vm", lambda a: a.vm or UNKNOWN),
    ("source", lambda a: a.source),
    ("what", lambda a: a.detail),
]


class AlertsScreen(RecordsScreen):
    COLUMNS = ALERT_COLUMNS
    FILTER_KEYS = ("kind", "vm", "state")
    TITLE_TEXT = "Intrusion alerts (from the fleet's flows)"
    BINDINGS = [Binding("Q", "quarantine", "Quarantine", id="alert.quarantine")]
    MUTATING = {"quarantine"}

    def __init__(self) -> None:
        super().__init__()
        self.alerts: list[Alert] = []
        self.note = ""

    def refresh_data(self) -> None:
        self._read()

    @work(exclusive=True, group="alerts")
    async def _read(self) -> None:
        try:
            if self.ops.backend == "emulated" and not self.app.read_only:  # type: ignore[attr-defined]
                await scan_recent(self.ops, 600.0)
            self.note = ""
        except (Refused, Failed) as exc:
            self.note = str(exc)
        self.alerts = intrusion.alerts(self.ops)
        if self.is_mounted:
            super().refresh_data()

    def fetch(self, fields: dict[str, str]) -> list[Any]:
        return [
            a
            for a in reversed(self.alerts)
            if fields.get("kind", a.kind) == a.kind
            and fields.get("vm", a.vm or "") == (a.vm or "")
            and fields.get("state", a.state) == a.state
        ]

    def status(self) -> str:
        return super().status() + (f"  {self.note}" if self.note else "")

    def action_quarantine(self) -> None:
        from vdctui.ui.actions import ask

        alert: Alert | None = self.current()
        if alert is None or alert.vm is None or alert.state == "quarantined":
            return
        vm = alert.vm
        question = Question(
            f"Quarantine {vm}? It loses all traffic (alert {alert.id}: {alert.kind}).",
            (alert.detail,),
            "Quarantine",
        )

        async def then() -> None:
            await self.app.act(  # type: ignore[attr-defined]
                intrusion.quarantine_alert(self.ops, alert.id), f"{vm} is in quarantine."
            )
            self.refresh_data()

        ask(self.app, question, then)  # type: ignore[arg-type]
