"""The lab BMCs' hands: sushy-tools' external notifier, which really cuts and restores lab hosts.

The lab's sushy emulator (`tests/lab/bmc.py`) serves one fake Redfish system per lab host,
each with `external_notifier`: on every power change it PUTs the system's JSON here, and it
does so inside the request that makes the change visible (a GET that applies a pending
change). So when this answers, the host really is off: once the BMC reports `Off`, the host's
libvirtd, sshd, virtlogd and every QEMU are gone (its supervisor stays: it is the hardware).
`On` asks the supervisor to start its daemons again (SIGUSR1). Every action is logged.

sushy's fake driver applies a change only when the system is next read (1 to 11 s after
it was asked): the relay reads every system each second, as a real BMC acts on its own.

Run by the lab as `python -m tests.lab.power_relay STATE_DIR`; it listens on 127.0.0.1 on a
port of its own choosing, written to STATE_DIR/bmc/relay-port.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import signal
import ssl
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.lab.hosts import DAEMONS, LabHost, alive, host_uuid

CUT_WAIT_S = 10.0


def cut(host: LabHost) -> list[int]:
    """Kill the host's daemons, every sshd session and every QEMU; wait until they are gone."""
    doomed = {host.pid(d) for d in DAEMONS} | set(host.processes_named("sshd"))
    doomed |= set(host.qemu_pids()) | set(host.processes_named("qemu-system-x86"))
    killed = sorted(p for p in doomed if p and alive(p))
    for pid in killed:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + CUT_WAIT_S
    while any(alive(p) for p in killed) and time.monotonic() < deadline:
        time.sleep(0.05)
    return killed


def restore(host: LabHost) -> bool:
    sup = host.pid("sup")
    if not alive(sup):
        return False
    assert sup is not None
    os.kill(sup, signal.SIGUSR1)
    return True


def wanted_state(system: dict[str, object]) -> str | None:
    """'Off' or 'On' once a change is applied; None while it is still pending."""
    state = system.get("power_state")
    if state == "Off":
        return "Off"  # applied (or a restart's Off half, which sushy sets at once)
    if state == "On" and not system.get("pending_power"):
        return "On"
    return None


def tick(state_dir: Path) -> None:
    """Read every lab system once a second, so that pending power changes take effect."""
    bmc_dir = state_dir / "bmc"
    while True:
        time.sleep(1.0)
        try:
            url = (bmc_dir / "url").read_text().strip()
            user = (bmc_dir / "user").read_text().strip()
            password = (bmc_dir / "bmc-password").read_text().strip()
            context = ssl.create_default_context(cafile=str(bmc_dir / "test-ca.pem"))
        except (OSError, ssl.SSLError):
            continue
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        for home in state_dir.glob("h[0-9]*"):
            if not home.name[1:].isdigit():
                continue
            request = urllib.request.Request(
                f"{url}/redfish/v1/Systems/{host_uuid(int(home.name[1:]))}",
                headers={"Authorization": f"Basic {token}"},
            )
            with contextlib.suppress(OSError, ValueError):
                urllib.request.urlopen(request, context=context, timeout=5).close()


def serve(state_dir: Path) -> None:
    bmc_dir = state_dir / "bmc"
    log_path = bmc_dir / "relay.log"
    powered: dict[int, str] = {}

    def note(line: str) -> None:
        with log_path.open("a") as out:
            out.write(f"{time.strftime('%H:%M:%S')} {line}\n")

    class Relay(BaseHTTPRequestHandler):
        def do_PUT(self) -> None:  # noqa: N802 - the http.server name
            length = int(self.headers.get("Content-Length") or 0)
            try:
                system = json.loads(self.rfile.read(length))
                name = str(system["name"])
                number = int(name.removeprefix("labh"))
            except (ValueError, KeyError, TypeError):
                self.send_response(400)
                self.end_headers()
                return
            host = LabHost(number, state_dir / f"h{number}")
            wanted = wanted_state(system)
            if wanted == "Off" and powered.get(number) != "Off":
                killed = cut(host)
                powered[number] = "Off"
                note(f"{name} power Off: killed {killed}")
            elif wanted == "On" and powered.get(number) == "Off":
                powered[number] = "On" if restore(host) else "Off"
                note(f"{name} power On: daemons asked to start ({powered[number]})")
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Relay)
    threading.Thread(target=tick, args=(state_dir,), daemon=True).start()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    # written whole, then renamed: the lab waits for the file and must never read it half-written
    partial = bmc_dir / "relay-port.partial"
    partial.write_text(str(server.server_address[1]))
    os.replace(partial, bmc_dir / "relay-port")
    note("relay listening")
    server.serve_forever()


if __name__ == "__main__":
    serve(Path(sys.argv[1]))
