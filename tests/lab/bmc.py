"""The lab's BMCs: one sushy-tools Redfish emulator on 127.0.0.1 serving a fake system per
lab host (named labhN, with the host's UUID), whose power changes really cut and restore the
host through `tests/lab/power_relay.py` (sushy's external notifier).

Everything lives under STATE/bmc: the CA and certificate, the htpasswd (bcrypt) and the
password file the inventory names, the emulator's state, both processes' PIDs and logs.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from tests.lab.hosts import LabError, alive, host_name, host_uuid, log

PROCESSES = ("sushy", "relay")
ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class LabBmcs:
    """Where the lab's BMCs answer and what the inventory needs to reach them."""

    url: str
    user: str
    password_file: Path
    ca: Path

    @staticmethod
    def of(state: Path) -> LabBmcs | None:
        home = state / "bmc"
        try:
            url = (home / "url").read_text().strip()
        except OSError:
            return None
        from tests.bmc.sushy import USER

        return LabBmcs(url, USER, home / "bmc-password", home / "test-ca.pem")


def system_id(n: int) -> str:
    """Host n's Redfish system id (its libvirt host UUID)."""
    return host_uuid(n)


def start(state: Path, count: int) -> LabBmcs:
    """The relay, then the emulator with one system per host; returns once both answer."""
    from tests.bmc.sushy import USER, start_sushy

    home = state / "bmc"
    (home / "pids").mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = open(home / "relay.out", "ab")  # noqa: SIM115 - the child keeps it
    with out:
        relay = subprocess.Popen(
            [sys.executable, "-m", "tests.lab.power_relay", str(state)],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=out,
            start_new_session=True,
        )
    (home / "pids" / "relay").write_text(str(relay.pid))
    deadline = time.monotonic() + 30
    while not (home / "relay-port").exists():
        if relay.poll() is not None or time.monotonic() > deadline:
            raise LabError(f"The lab's power relay did not start (see {home / 'relay.out'}).")
        time.sleep(0.05)
    port = int((home / "relay-port").read_text())
    systems: list[dict[str, object]] = [
        {
            "uuid": system_id(n),
            "name": host_name(n),
            "power_state": "On",
            "external_notifier": True,
        }
        for n in range(1, count + 1)
    ]
    try:
        sushy = start_sushy(
            home, systems, {"EXTERNAL_NOTIFICATION_URL": f"http://127.0.0.1:{port}/power"}
        )
    except RuntimeError as exc:
        raise LabError(f"The lab's BMC emulator did not start: {exc}") from None
    (home / "pids" / "sushy").write_text(str(sushy.process.pid))
    (home / "user").write_text(USER)
    (home / "url").write_text(sushy.url)
    log(f"BMCs: {sushy.url} ({count} systems), power relay on 127.0.0.1:{port}")
    found = LabBmcs.of(state)
    assert found is not None
    return found


def pids(state: Path) -> list[int]:
    found = []
    for what in PROCESSES:
        with contextlib.suppress(OSError, ValueError):
            pid = int((state / "bmc" / "pids" / what).read_text())
            if alive(pid):
                found.append(pid)
    return found


def stop(state: Path) -> None:
    """Stop the emulator and the relay (by their recorded PIDs)."""
    running = pids(state)
    for pid in running:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while any(alive(p) for p in running):
        if time.monotonic() > deadline:
            for pid in running:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            deadline += 5
        time.sleep(0.05)
