"""HAProxy's runtime API answers, read: `show stat` (CSV) and `show servers state`.

Pure functions over text, so they are tested on their own (and with hypothesis).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from vdctui.model import MemberState

# srv_admin_state bits (HAProxy's SRV_ADMF_*): forced/inherited/config/resolution/... maint,
# forced/inherited drain
MAINT_BITS = 0x01 | 0x02 | 0x04 | 0x20 | 0x40
DRAIN_BITS = 0x08 | 0x10
CHECK_OK = ("L4OK", "L6OK", "L7OK", "L7OKC")


@dataclass(frozen=True, slots=True)
class ServerState:
    """One line of `show servers state`."""

    backend: str
    server: str
    op_state: int  # 0 stopped, 1 starting, 2 running, 3 stopping
    admin_state: int  # SRV_ADMF_* bits
    weight: int

    @property
    def state(self) -> MemberState:
        if self.admin_state & MAINT_BITS:
            return MemberState.MAINT
        if self.admin_state & DRAIN_BITS:
            return MemberState.DRAIN
        return MemberState.DOWN if self.op_state == 0 else MemberState.UP


@dataclass(frozen=True, slots=True)
class StatRow:
    """The figures of one `show stat` row (None: HAProxy leaves it empty)."""

    backend: str
    name: str  # a server's name, or BACKEND / FRONTEND
    status: str
    sessions: int | None
    rate: int | None  # new sessions per second, over the last second
    weight: int | None
    check_status: str
    failed: int | None  # connection and response errors

    @property
    def healthy(self) -> bool | None:
        """What the health check says (None: no check runs)."""
        check = self.check_status.removeprefix("* ")
        if not check or self.status == "no check":
            return None
        return check in CHECK_OK


class AnswerError(ValueError):
    """HAProxy's answer does not read as expected."""


def _int(value: str | None) -> int | None:
    if value is None or value == "":
        return None
    try:
        number = int(value)
    except ValueError:
        raise AnswerError(f"not a number: {value[:40]!r}") from None
    if number < 0:
        raise AnswerError(f"a negative count: {number}")
    return number


def parse_servers_state(text: str) -> list[ServerState]:
    """`show servers state [BACKEND]`: a version line "1", a "# ..." header, then one
    space-separated line per server."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return []
    if lines[0].strip() != "1":
        raise AnswerError(f"not a servers state answer: {lines[0][:60]!r}")
    header: list[str] = []
    found = []
    for line in lines[1:]:
        if line.startswith("#"):
            header = line.lstrip("# ").split()
            continue
        fields = dict(zip(header, line.split(), strict=False))
        try:
            found.append(
                ServerState(
                    fields["be_name"],
                    fields["srv_name"],
                    _int(fields["srv_op_state"]) or 0,
                    _int(fields["srv_admin_state"]) or 0,
                    _int(fields["srv_uweight"]) or 0,
                )
            )
        except KeyError as exc:
            raise AnswerError(f"a server line without {exc.args[0]}") from None
    return found


def parse_stat(text: str) -> list[StatRow]:
    """`show stat`: CSV with a "# pxname,svname,..." header."""
    body = text.lstrip()
    if not body.startswith("# pxname"):
        raise AnswerError(f"not a show stat answer: {body[:60]!r}")
    reader = csv.DictReader(io.StringIO(body[2:]))
    rows = []
    for raw in reader:
        if not raw.get("pxname"):
            continue
        econ, eresp = _int(raw.get("econ")), _int(raw.get("eresp"))
        failed = None if econ is None and eresp is None else (econ or 0) + (eresp or 0)
        rows.append(
            StatRow(
                raw["pxname"],
                raw.get("svname") or "",
                raw.get("status") or "",
                _int(raw.get("scur")),
                _int(raw.get("rate")),
                _int(raw.get("weight")),
                raw.get("check_status") or "",
                failed,
            )
        )
    return rows
