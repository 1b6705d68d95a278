"""A Redfish BMC per emulated host, on 127.0.0.1 over HTTPS: what `vdctui emulate
--serve-ssh` serves beside each host's SSH endpoint, so power and fencing reach the
emulated fleet through the console's real Redfish driver.

Each BMC serves the DMTF resources a console needs: the service root (no login needed),
`Systems/1` (`PowerState` On/Off; a crashed host is still On, with `Status.Health`
Critical), `Chassis/1/Power` (`PowerControl[0].PowerConsumedWatts` from the emulator's
power model; a host that is off draws 0 W, which is a reading, not an unknown), and
`ComputerSystem.Reset` (On, ForceOff, GracefulShutdown, PowerCycle, ForceRestart), which
acts on the emulated host at once. HTTP basic auth; the files it needs (a CA, the BMCs'
certificate, the password) live in one directory and are kept between runs.
"""

from __future__ import annotations

import asyncio
import base64
import datetime
import hmac
import ipaddress
import json
import secrets
import ssl
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from .errors import FleetError
from .fleet import Fleet

LOOPBACK = "127.0.0.1"
USER = "admin"
SYSTEM = "/redfish/v1/Systems/1"
CHASSIS = "/redfish/v1/Chassis/1"
RESET = f"{SYSTEM}/Actions/ComputerSystem.Reset"
RESET_TYPES = ("On", "ForceOff", "GracefulShutdown", "PowerCycle", "ForceRestart")
MAX_BODY = 64 * 1024
REASONS = {
    200: "OK",
    204: "No Content",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Too Large",
}


@dataclass(frozen=True)
class BmcFiles:
    """`bmc-ca.pem` (what a console trusts), the BMCs' certificate and key, the password."""

    directory: Path

    @property
    def ca(self) -> Path:
        return self.directory / "bmc-ca.pem"

    @property
    def cert(self) -> Path:
        return self.directory / "bmc-cert.pem"

    @property
    def key(self) -> Path:
        return self.directory / "bmc-key.pem"

    @property
    def password_file(self) -> Path:
        return self.directory / "bmc-password"

    def ensure(self) -> None:
        """Make what is missing (a restarted emulator keeps its CA and password)."""
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not self.password_file.exists():
            _write_private(self.password_file, secrets.token_urlsafe(18).encode() + b"\n")
        if not (self.ca.exists() and self.cert.exists() and self.key.exists()):
            _make_certificates(self)

    def password(self) -> str:
        return self.password_file.read_text(encoding="utf-8").strip()


def _write_private(path: Path, data: bytes) -> None:
    path.unlink(missing_ok=True)
    path.touch(mode=0o600)
    path.write_bytes(data)


def _make_certificates(files: BmcFiles) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    def name(text: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, text)])

    now = datetime.datetime.now(datetime.UTC)
    start, end = now - datetime.timedelta(minutes=5), now + datetime.timedelta(days=3650)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(name("vdctui emulated BMCs CA"))
        .issuer_name(name("vdctui emulated BMCs CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name("emulated-bmc"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(LOOPBACK))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    _write_private(
        files.key,
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
    )
    files.cert.write_bytes(cert.public_bytes(pem))
    files.ca.write_bytes(ca.public_bytes(pem))


class FleetRedfish:
    """One HTTPS listener per emulated host on 127.0.0.1; `endpoints` maps host -> port."""

    def __init__(self, fleet: Fleet, files: BmcFiles) -> None:
        self.fleet = fleet
        self.files = files
        self.endpoints: dict[str, int] = {}
        self.requests = 0
        self._servers: list[asyncio.Server] = []
        self._token = ""

    async def start(self, names: list[str]) -> dict[str, int]:
        self.files.ensure()
        self._token = base64.b64encode(f"{USER}:{self.files.password()}".encode()).decode()
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.files.cert, self.files.key)
        for name in names:
            server = await asyncio.start_server(
                partial(self._serve, name), LOOPBACK, 0, ssl=context
            )
            self._servers.append(server)
            self.endpoints[name] = int(server.sockets[0].getsockname()[1])
        return dict(self.endpoints)

    async def close(self) -> None:
        for server in self._servers:
            server.close()
        for server in self._servers:
            await server.wait_closed()
        self._servers.clear()

    # --- HTTP/1.1, as much as a Redfish client needs -----------------------------------

    async def _serve(
        self, host: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        try:
            while True:
                line = await reader.readline()
                if not line:
                    break
                method, target, _ = line.decode("latin-1").split(" ", 2)
                headers: dict[str, str] = {}
                while (raw := await reader.readline()) not in (b"\r\n", b"\n", b""):
                    key, _, value = raw.decode("latin-1").partition(":")
                    headers[key.strip().lower()] = value.strip()
                length = int(headers.get("content-length") or 0)
                if not 0 <= length <= MAX_BODY:
                    await self._reply(writer, 413, _error("The request is too large."))
                    break
                body = await reader.readexactly(length) if length else b""
                self.requests += 1
                status, payload = self.answer(host, method, target.split("?")[0], headers, body)
                await self._reply(writer, status, payload)
                if headers.get("connection", "").lower() == "close":
                    break
        except (ConnectionError, asyncio.IncompleteReadError, ValueError, ssl.SSLError):
            pass
        finally:
            writer.close()

    async def _reply(
        self, writer: asyncio.StreamWriter, status: int, payload: dict[str, Any] | None
    ) -> None:
        data = b"" if payload is None else json.dumps(payload).encode()
        head = [
            f"HTTP/1.1 {status} {REASONS.get(status, 'Error')}",
            "Content-Type: application/json",
            "OData-Version: 4.0",
            f"Content-Length: {len(data)}",
        ]
        if status == 401:
            head.append('WWW-Authenticate: Basic realm="emulated BMC"')
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + data)
        await writer.drain()

    # --- Redfish ---------------------------------------------------------------------

    def answer(
        self, host: str, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, Any] | None]:
        path = path.rstrip("/") or "/"
        if path == "/redfish/v1" and method == "GET":
            return 200, {
                "@odata.id": "/redfish/v1",
                "RedfishVersion": "1.6.0",
                "Systems": {"@odata.id": "/redfish/v1/Systems"},
                "Chassis": {"@odata.id": "/redfish/v1/Chassis"},
            }
        given = headers.get("authorization", "").removeprefix("Basic ").strip()
        if not hmac.compare_digest(given.encode(), self._token.encode()):
            return 401, _error("Wrong user name or password.")
        if method == "POST" and path == RESET:
            return self._reset(host, body)
        if method != "GET":
            return 405, _error(f"{method} is not allowed on {path}.")
        resource = self._resource(host, path)
        return (200, resource) if resource is not None else (404, _error(f"No {path}."))

    def _resource(self, host: str, path: str) -> dict[str, Any] | None:
        h = self.fleet.hosts.get(host)
        if h is None:
            return None
        if path == "/redfish/v1/Systems":
            return {"Members": [{"@odata.id": SYSTEM}], "Members@odata.count": 1}
        if path == "/redfish/v1/Chassis":
            return {"Members": [{"@odata.id": CHASSIS}], "Members@odata.count": 1}
        if path == SYSTEM:
            return {
                "@odata.id": SYSTEM,
                "Id": "1",
                "Name": host,
                "Model": h.model,
                "PowerState": "Off" if h.state == "off" else "On",
                "Status": {"Health": "Critical" if h.state == "crashed" else "OK"},
                "Links": {"Chassis": [{"@odata.id": CHASSIS}]},
                "Actions": {
                    "#ComputerSystem.Reset": {
                        "target": RESET,
                        "ResetType@Redfish.AllowableValues": list(RESET_TYPES),
                    }
                },
            }
        if path == CHASSIS:
            return {"@odata.id": CHASSIS, "Power": {"@odata.id": f"{CHASSIS}/Power"}}
        if path == f"{CHASSIS}/Power":
            watts = round(self.fleet.host_stats(host).power_watts, 1)
            return {"PowerControl": [{"MemberId": "0", "PowerConsumedWatts": watts}]}
        return None

    def _reset(self, host: str, body: bytes) -> tuple[int, dict[str, Any] | None]:
        try:
            kind = json.loads(body or b"{}").get("ResetType")
        except (ValueError, AttributeError):
            kind = None
        if kind not in RESET_TYPES:
            return 400, _error(f"ResetType must be one of {', '.join(RESET_TYPES)}.")
        cuts, boots = kind != "On", kind in ("On", "PowerCycle", "ForceRestart")
        try:
            if cuts and self.fleet.hosts[host].state != "off":
                self.fleet.power_off_host(host)
            if boots and self.fleet.hosts[host].state != "up":
                self.fleet.power_on_host(host)
        except FleetError as exc:
            return 409, _error(str(exc))
        return 204, None


def _error(message: str) -> dict[str, Any]:
    return {
        "error": {
            "code": "Base.1.8.GeneralError",
            "message": message,
            "@Message.ExtendedInfo": [{"Message": message}],
        }
    }
