"""Each audit record also goes to the system log, as RFC 5424 with structured data."""

from __future__ import annotations

import re
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from vdctui.store import Store
from vdctui.store.syslog import SD_ID, syslog_setting

# <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [SD-ID PARAMS] BOM MSG
HEADER = re.compile(
    rb"<(?P<pri>\d{1,3})>1 (?P<ts>\S+) (?P<host>\S+) (?P<app>\S+) (?P<pid>\S+) (?P<msgid>\S+) "
)
PARAM = re.compile(r'(\w+)="((?:[^"\\\]]|\\.)*)"')


def parse(datagram: bytes) -> tuple[dict[str, str], dict[str, str], str]:
    """Header fields, structured-data params (unescaped) and the message of one record."""
    head = HEADER.match(datagram)
    assert head is not None, datagram
    rest = datagram[head.end() :].decode()
    assert rest.startswith(f"[{SD_ID} ")
    end = rest.index("] \ufeff")  # the SD element ends at an unescaped ] before the BOM
    params = {
        # RFC 5424: only \\ \" \] are escapes; a backslash before anything else is itself
        name: re.sub(r'\\([\\"\]])', r"\1", value)
        for name, value in PARAM.findall(rest[:end])
    }
    header = {k: v.decode() for k, v in head.groupdict().items()}
    return header, params, rest[end + 3 :]


@pytest.fixture
def log_socket() -> Iterator[tuple[socket.socket, Path]]:
    with tempfile.TemporaryDirectory(dir="/tmp") as tmp:  # short: AF_UNIX paths are short
        path = Path(tmp) / "log"
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(str(path))
        sock.settimeout(5)
        yield sock, path
        sock.close()


def test_each_record_arrives_as_rfc5424_structured_data(
    log_socket: tuple[socket.socket, Path],
) -> None:
    sock, path = log_socket
    with Store(":memory:", syslog=str(path)) as store:
        store.append_audit(actor="alice", role="operator", action="vm.start", target="web-1",
                           params={"host": "h1"}, ts=1_700_000_000.5)  # fmt: skip
        refused = store.append_audit(
            actor="bob", role="viewer", action="vm.destroy", target='x"]\n\x1b[31mevil',
            result="refused", error="bob may not", ts=1_700_000_001.0,
        )  # fmt: skip
        header, params, message = parse(sock.recv(65536))
        assert header["pri"] == str(10 * 8 + 5) and header["app"] == "vdctui"
        assert header["ts"] == "2023-11-14T22:13:20.500000Z" and header["msgid"] == "vm.start"
        assert params["id"] == "1" and params["actor"] == "alice" and params["result"] == "ok"
        assert params["target"] == "web-1" and params["params"] == '{"host":"h1"}'
        assert params["hash"] == store.audit(limit=1, offset=1)[0].hash
        assert message == "alice vm.start web-1: ok"
        raw = sock.recv(65536)
        assert b"\n" not in raw and b"\x1b" not in raw  # no line break, no terminal sequence
        header, params, message = parse(raw)
        assert header["pri"] == str(10 * 8 + 4)
        assert params["id"] == "2" and params["hash"] == refused.hash
        assert params["target"] == 'x"]\\x0a\\x1b[31mevil'
        assert store.check_audit().notes[-1].endswith(f"sent to the system log at {path}")


def test_an_absent_log_never_fails_a_change_and_verify_says_so(tmp_path: Path) -> None:
    with Store(":memory:", syslog=str(tmp_path / "nobody-listens")) as store:
        for _ in range(3):
            store.append_audit(actor="a", role="admin", action="x", target="y")
        assert store.count_audit() == 3
        check = store.check_audit()
        assert check.problems == []
        warning = [n for n in check.notes if n.startswith("warning:")]
        assert len(warning) == 1 and "3 records (the last: record 3)" in warning[0]


def test_a_full_log_never_blocks_a_change(log_socket: tuple[socket.socket, Path]) -> None:
    sock, path = log_socket
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
    with Store(":memory:", syslog=str(path)) as store:
        store.append_audit_many(
            {"actor": "a", "role": "admin", "action": "x", "target": f"vm-{i}"} for i in range(500)
        )
        assert store.count_audit() == 500
        assert any(n.startswith("warning:") for n in store.check_audit().notes)


def test_the_copy_is_configurable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VDCTUI_AUDIT_SYSLOG", "off")
    assert syslog_setting().path is None
    monkeypatch.setenv("VDCTUI_AUDIT_SYSLOG", "/run/other.sock")
    assert syslog_setting().path == "/run/other.sock"
    monkeypatch.setenv("VDCTUI_AUDIT_SYSLOG", "on")
    on = syslog_setting()
    assert on.path == ("/dev/log" if Path("/dev/log").exists() else None)
    assert syslog_setting("off").path is None  # Store(syslog=...) wins over the environment
