"""A copy of each audit record in the system log: RFC 5424 with structured data.

Sent as one datagram per record to a Unix datagram socket (`/dev/log`, where
journald or rsyslog listen), after the record is committed. Never blocks and never
fails a change: a socket that is absent, refuses or is full makes the record
"dropped", counted in the store for `audit verify` to say.

Setting (`VDCTUI_AUDIT_SYSLOG`, or `Store(syslog=...)`): `on` (the default: to
/dev/log when it exists), `off`, or the path of another datagram socket.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from vdctui.frozen import frozen
from vdctui.store.audit_record import iso_utc
from vdctui.store.owners import this_host

if TYPE_CHECKING:
    import socket

ENV = "VDCTUI_AUDIT_SYSLOG"
DEFAULT_SOCKET = "/dev/log"
FACILITY_AUTHPRIV = 10  # security messages; most systems keep them readable by root only
SEVERITY = {"ok": 5, "refused": 4, "failed": 4}  # notice; warning
SD_ID = "audit@32473"  # 32473: the enterprise number RFC 5612 sets aside for examples
MAX_VALUE = 2048  # characters per structured-data value; longer ones end in "…"
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_NOT_PRINTUSASCII = re.compile(r"[^\x21-\x7e]")


@frozen
class SyslogSetting:
    """Where the copy goes (None: nowhere) and why, in the operator's words."""

    path: str | None
    said: str


def syslog_setting(value: str | None = None) -> SyslogSetting:
    raw = (os.environ.get(ENV, "on") if value is None else value).strip()
    word = raw.lower()
    if word in ("off", "no", "false", "0", "none"):
        return SyslogSetting(None, f"the system log copy is off ({ENV}={raw})")
    if word in ("on", "yes", "true", "1", "", "auto"):
        if os.path.exists(DEFAULT_SOCKET):
            return SyslogSetting(DEFAULT_SOCKET, f"each record is also sent to {DEFAULT_SOCKET}")
        return SyslogSetting(
            None, f"there is no system log here ({DEFAULT_SOCKET} is absent): no copy is sent"
        )
    return SyslogSetting(raw, f"each record is also sent to the system log at {raw}")


def _escape(value: str) -> str:
    """An RFC 5424 PARAM-VALUE: \\ " ] escaped; control characters written as \\xNN
    (so no record can break a line or send a terminal sequence in a log viewer)."""
    if len(value) > MAX_VALUE:
        value = value[: MAX_VALUE - 1] + "…"
    value = value.replace("\\", "\\\\").replace('"', '\\"').replace("]", "\\]")
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", value)


def _token(value: str, limit: int) -> str:
    """A header field: printable US-ASCII without spaces, at most `limit` long, or "-"."""
    text = _NOT_PRINTUSASCII.sub("_", value)[:limit]
    return text or "-"


def format_record(row: Sequence[Any], *, hostname: str, pid: int) -> bytes:
    """One stored audit row (id, ts, actor, role, action, target, params, result, error,
    prev_hash, hash, ...) as an RFC 5424 message."""
    record_id, ts, actor, role, action, target, params, result, error = row[:9]
    digest = row[10]
    priority = FACILITY_AUTHPRIV * 8 + SEVERITY.get(str(result), 4)
    stamp = iso_utc(ts) or "-"
    fields = {
        "id": str(record_id),
        "actor": str(actor),
        "role": str(role),
        "action": str(action),
        "target": str(target),
        "result": str(result),
        "error": str(error),
        "params": str(params),
        "hash": str(digest),
    }
    data = " ".join(f'{name}="{_escape(value)}"' for name, value in fields.items())
    text = f"{actor} {action} {target}: {result}" + (f" ({error})" if error else "")
    message = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)[:MAX_VALUE]
    header = f"<{priority}>1 {stamp} {_token(hostname, 255)} vdctui {pid} {_token(str(action), 32)}"
    return f"{header} [{SD_ID} {data}] ".encode() + b"\xef\xbb\xbf" + message.encode()


class SyslogCopy:
    """Sends records to one datagram socket; never waits, counts what it could not send."""

    def __init__(self, setting: SyslogSetting) -> None:
        self.setting = setting
        self.dropped = 0
        self._socket: socket.socket | None = None
        self._hostname = this_host()

    def send(self, rows: Sequence[Sequence[Any]]) -> tuple[int, str]:
        """Send each row; return how many were dropped and the last reason."""
        path = self.setting.path
        if path is None or not rows:
            return 0, ""
        dropped, reason = 0, ""
        pid = os.getpid()
        for row in rows:
            try:
                if self._socket is None:
                    import socket  # only once a copy is sent: a CLI read sends none

                    self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
                    self._socket.setblocking(False)
                self._socket.sendto(format_record(row, hostname=self._hostname, pid=pid), path)
            except OSError as exc:
                dropped += 1
                reason = f"{path}: {exc.strerror or exc}"
        self.dropped += dropped
        return dropped, reason

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None
