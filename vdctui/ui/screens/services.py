"""Services behind the load balancer: each member with its state, health, weight,
sessions and requests/s, and each service's rate and error rate. `d` drains the
selected member, `e` enables it (both through the console's door)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual import work
from textual.binding import Binding

from vdctui.columns import Column
from vdctui.model import MemberStatus, ServiceStatus
from vdctui.ops import Failed, Refused
from vdctui.ops.services import set_member, statuses
from vdctui.ui.screens.records import RecordsScreen

UNKNOWN = "—"


@dataclass(frozen=True, slots=True)
class MemberRow:
    service: ServiceStatus
    member: MemberStatus


def _num(value: float | int | None, fmt: str = "{:.0f}") -> str:
    return UNKNOWN if value is None else fmt.format(value)


def _health(member: MemberStatus) -> str:
    if member.healthy is None:
        return UNKNOWN
    return "passing" if member.healthy else "failing"


SERVICE_COLUMNS: list[Column] = [
    ("service", lambda r: r.service.service.name),
    ("vip", lambda r: f"{r.service.service.vip}:{r.service.service.port}"),
    ("member", lambda r: f"{r.member.vm}:{r.member.port}"),
    ("state", lambda r: r.member.state.value),
    ("health", lambda r: _health(r.member)),
    ("weight", lambda r: r.member.weight),
    ("sessions", lambda r: _num(r.member.sessions)),
    ("req/s", lambda r: _num(r.member.req_s)),
    ("svc req/s", lambda r: _num(r.service.req_s)),
    ("svc errors", lambda r: _num(r.service.error_rate, "{:.2%}")),
]


class ServicesScreen(RecordsScreen):
    COLUMNS = SERVICE_COLUMNS
    FILTER_KEYS = ("service", "vm", "state")
    TITLE_TEXT = "Services (load balancer)"
    BINDINGS = [
        Binding("d", "drain", "Drain", id="service.drain"),
        Binding("e", "enable", "Enable", id="service.enable"),
    ]
    MUTATING = {"drain", "enable"}

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[MemberRow] = []
        self.note = ""

    def refresh_data(self) -> None:
        self._read()

    @work(exclusive=True, group="services")
    async def _read(self) -> None:
        try:
            found = await statuses(self.ops)
        except (Refused, Failed) as exc:
            self.rows, self.note = [], str(exc)
        except Exception as exc:  # noqa: BLE001 - an ADC that fails is said, not a crash
            self.rows, self.note = [], f"The load balancer did not answer: {exc}"
        else:
            self.rows = [MemberRow(s, m) for s in found for m in s.members]
            self.note = "" if found else "No services: `vdctui service create` makes one."
        if self.is_mounted:
            super().refresh_data()

    def fetch(self, fields: dict[str, str]) -> list[Any]:
        return [
            r
            for r in self.rows
            if fields.get("service", r.service.service.name) == r.service.service.name
            and fields.get("vm", r.member.vm) == r.member.vm
            and fields.get("state", r.member.state.value) == r.member.state.value
        ]

    def status(self) -> str:
        return super().status() + (f"  {self.note}" if self.note else "")

    def _act(self, state: str) -> None:
        row = self.current()
        if row is None:
            return
        name, member = row.service.service.name, row.member
        word = "enabled" if state == "ready" else "draining"
        self.act(
            set_member(self.ops, name, member.vm, member.port, state=state),
            f"{name}: {member.vm}:{member.port} {word}.",
        )

    def action_drain(self) -> None:
        self._act("drain")

    def action_enable(self) -> None:
        self._act("ready")
