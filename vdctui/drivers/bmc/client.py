"""An async Redfish client for one BMC: one session, bounded concurrency, reads retried.

Only what the console needs: the system's power state and health, the power it draws
where the BMC reports it, and `ComputerSystem.Reset`. Every failure becomes a `BmcError`
whose message is one sentence naming the BMC.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import ssl
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from vdctui.drivers.bmc.config import BmcConfig, BmcError, BmcNoAnswer

if TYPE_CHECKING:  # imported where used: httpx's import loads rich (for its own CLI), which
    import httpx  # nothing below the ui may load just by being imported

ROOT = "/redfish/v1"
REDISCOVER_S = 600.0  # a BMC that offers no watts is asked again after this long
# what the console asks for -> the Redfish ResetTypes that do it, best first
RESET_TYPES: dict[str, tuple[str, ...]] = {
    "on": ("On",),
    "off": ("GracefulShutdown",),
    "force-off": ("ForceOff",),
    "cycle": ("PowerCycle", "ForceRestart"),
}


@dataclass(frozen=True, slots=True)
class BmcReading:
    power_state: str | None  # "On", "Off", "PoweringOn", ...; None = not reported
    health: str | None  # "OK", "Warning", "Critical"; None = not reported
    watts: float | None  # power drawn; None = the BMC does not report it (never 0)


def _tls(config: BmcConfig) -> ssl.SSLContext | bool:
    if config.insecure:
        return False
    if config.ca is not None:
        try:
            return ssl.create_default_context(cafile=str(config.ca))
        except (OSError, ssl.SSLError) as exc:
            raise BmcError(f"Cannot use the CA file {config.ca} for {config.url}: {exc}.") from None
    return True


def _odata_id(value: Any) -> str | None:
    if isinstance(value, dict) and isinstance(value.get("@odata.id"), str):
        return str(value["@odata.id"])
    return None


def _watts(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) and 0 <= number < 1e7 else None


class BmcClient:
    """Use as `async with BmcClient(config) as bmc:`; `open()`/`close()` otherwise."""

    def __init__(
        self,
        config: BmcConfig,
        *,
        timeout: float = 10.0,
        read_attempts: int = 3,
        in_flight: int = 3,
        password: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.config = config
        self._timeout = timeout
        self._read_attempts = max(1, read_attempts)
        self._gate = asyncio.Semaphore(max(1, in_flight))
        self._password = password
        self._transport = transport
        self._http: httpx.AsyncClient | None = None
        self._session_url: str | None = None
        self.system_path = ""  # e.g. "/redfish/v1/Systems/1", known once open
        self.uses_session = False
        # where the watts come from, found once; when none are, looked for again after:
        self.rediscover_s = REDISCOVER_S
        self._watts_from: tuple[str, str] | None = None  # ("metrics"|"power", path)
        self._looked_at: float | None = None
        self._reading_lock = asyncio.Lock()
        self._generation = 0
        self._last: BmcReading | None = None

    async def __aenter__(self) -> BmcClient:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- connection -------------------------------------------------------------------

    async def open(self) -> None:
        import httpx

        password = self._password if self._password is not None else self.config.password()
        self._http = httpx.AsyncClient(
            base_url=self.config.url,
            verify=_tls(self.config),
            timeout=self._timeout,
            headers={"Accept": "application/json", "OData-Version": "4.0"},
            follow_redirects=False,
            transport=self._transport,
        )
        try:
            root = await self.get(ROOT)
            await self._log_in(root, password)
            self.system_path = await self._find_system()
        except BaseException:
            await self.close()
            raise

    async def _log_in(self, root: dict[str, Any], password: str) -> None:
        import httpx

        assert self._http is not None
        sessions = _odata_id(root.get("Links", {}).get("Sessions"))
        if sessions is None and _odata_id(root.get("SessionService")):
            sessions = f"{ROOT}/SessionService/Sessions"
        if sessions is not None:
            response = await self._send(
                "POST", sessions, json={"UserName": self.config.user, "Password": password}
            )
            token = response.headers.get("X-Auth-Token")
            if response.status_code in (200, 201, 204) and token:
                self._http.headers["X-Auth-Token"] = token
                location = response.headers.get("Location")
                self._session_url = location or _odata_id(_json(response))
                self.uses_session = True
                return
            if response.status_code in (401, 403):
                raise self._refused()
            # sessions not really offered (404, 405, 501, no token): basic auth below
        self._http.auth = httpx.BasicAuth(self.config.user, password)
        await self.get(f"{ROOT}/Systems")  # proves the credentials

    def _refused(self) -> BmcError:
        return BmcError(
            f"The BMC at {self.config.url} refused user {self.config.user!r}: "
            "wrong user name or password."
        )

    async def _find_system(self) -> str:
        if self.config.system is not None:
            path = f"{ROOT}/Systems/{self.config.system}"
            await self.get(path)
            return path
        members = (await self.get(f"{ROOT}/Systems")).get("Members") or []
        paths = [p for p in (_odata_id(m) for m in members) if p]
        if len(paths) == 1:
            return paths[0]
        if not paths:
            raise BmcError(f"The BMC at {self.config.url} lists no system under {ROOT}/Systems.")
        names = ", ".join(p.rstrip("/").rsplit("/", 1)[-1] for p in paths)
        raise BmcError(
            f"The BMC at {self.config.url} has several systems ({names}); name one with bmc_system."
        )

    async def close(self) -> None:
        import httpx

        http, self._http = self._http, None
        if http is None:
            return
        try:
            if self._session_url:
                with contextlib.suppress(httpx.HTTPError):  # else the BMC expires it itself
                    await http.delete(self._session_url, timeout=min(self._timeout, 5.0))
        finally:
            self._session_url = None
            await http.aclose()

    # -- requests ---------------------------------------------------------------------

    async def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        import httpx

        if self._http is None:
            raise BmcError(f"The connection to the BMC at {self.config.url} is closed.")
        async with self._gate:
            try:
                return await self._http.request(method, path, **kwargs)
            except httpx.TimeoutException:
                raise BmcNoAnswer(
                    f"The BMC at {self.config.url} did not answer within {self._timeout:g} s."
                ) from None
            except httpx.ConnectError as exc:
                if "CERTIFICATE_VERIFY_FAILED" in str(exc):
                    raise BmcError(
                        f"The BMC at {self.config.url} presented a certificate that is not "
                        "trusted (give its CA with bmc_ca)."
                    ) from None
                raise BmcNoAnswer(
                    f"The BMC at {self.config.url} cannot be reached: {exc}."
                ) from None
            except httpx.HTTPError as exc:
                raise BmcError(f"The BMC at {self.config.url} failed: {exc}.") from None

    async def get(self, path: str) -> dict[str, Any]:
        """GET a resource; connection failures, timeouts and 5xx are retried, 4xx are not."""
        last: BmcError | None = None
        for attempt in range(self._read_attempts):
            if attempt:
                await asyncio.sleep(0.2 * 2**attempt)
            try:
                response = await self._send("GET", path)
            except BmcError as exc:
                if self._http is None:
                    raise
                last = exc
                continue
            if response.status_code >= 500:
                last = self._status_error("GET", path, response)
                continue
            if response.status_code >= 400:
                raise self._status_error("GET", path, response)
            return _json(response)
        assert last is not None
        raise last

    def _status_error(self, method: str, path: str, response: httpx.Response) -> BmcError:
        if response.status_code == 401:
            return self._refused()
        message = _redfish_message(response)
        said = f": {message}" if message else ""
        return BmcError(
            f"The BMC at {self.config.url} answered {response.status_code} to "
            f"{method} {path}{said}."
        )

    # -- reads ------------------------------------------------------------------------

    async def system(self) -> dict[str, Any]:
        return await self.get(self.system_path)

    async def power_state(self) -> str | None:
        return _word((await self.system()).get("PowerState"))

    async def reading(self) -> BmcReading:
        """Power state, health and watts. Readings asked while one is under way share it."""
        generation = self._generation
        async with self._reading_lock:
            if self._generation != generation and self._last is not None:
                return self._last  # taken while this one waited: as fresh as it gets
            system = await self.system()
            self._last = BmcReading(
                _word(system.get("PowerState")),
                _word((system.get("Status") or {}).get("Health")),
                await self._watts(system),
            )
            self._generation += 1
            return self._last

    async def _watts(self, system: dict[str, Any]) -> float | None:
        """Read where the watts were found last time; look for them (the chassis) only the
        first time, when that source fails, or every `rediscover_s` when none is offered."""
        if self._watts_from is not None:
            try:
                found = await self._watts_at(*self._watts_from)
            except BmcError:
                found = None
            if found is not None:
                return found
            self._watts_from, self._looked_at = None, None
        now = time.monotonic()
        if self._looked_at is not None and now - self._looked_at < self.rediscover_s:
            return None  # none offered, and it was looked for not long ago
        self._looked_at = now
        chassis = [_odata_id(c) for c in (system.get("Links") or {}).get("Chassis") or []]
        for path in (c for c in chassis if c):
            try:
                sources = await self._watts_sources(path)
                for source in sources:
                    found = await self._watts_at(*source)
                    if found is not None:
                        self._watts_from = source
                        return found
            except BmcError:
                continue  # power readings are optional; the state above is what matters
        return None

    async def _watts_sources(self, chassis_path: str) -> list[tuple[str, str]]:
        """Where a chassis may report its draw: the newer schema first."""
        chassis = await self.get(chassis_path)
        sources = []
        metrics = _odata_id(chassis.get("EnvironmentMetrics"))
        if metrics:
            sources.append(("metrics", metrics))
        power = _odata_id(chassis.get("Power"))
        if power:
            sources.append(("power", power))
        return sources

    async def _watts_at(self, kind: str, path: str) -> float | None:
        resource = await self.get(path)
        if kind == "metrics":
            reading = resource.get("PowerWatts") or {}
            return _watts(reading.get("Reading")) if isinstance(reading, dict) else None
        for control in resource.get("PowerControl") or []:
            if isinstance(control, dict):
                found = _watts(control.get("PowerConsumedWatts"))
                if found is not None:
                    return found
        return None

    # -- changes ----------------------------------------------------------------------

    async def reset(self, action: str) -> str:
        """Ask the BMC for `action` (a key of RESET_TYPES); returns the ResetType sent.

        Never retried: the BMC may have acted on a request whose answer was lost.
        """
        system = await self.system()
        reset = ((system.get("Actions") or {}).get("#ComputerSystem.Reset")) or {}
        target = reset.get("target") or f"{self.system_path}/Actions/ComputerSystem.Reset"
        allowed = reset.get("ResetType@Redfish.AllowableValues")
        wanted = RESET_TYPES[action]
        if isinstance(allowed, list):
            choices = [kind for kind in wanted if kind in allowed]
            if not choices:
                raise BmcError(
                    f"The BMC at {self.config.url} does not offer {' or '.join(wanted)} "
                    f"(it allows {', '.join(map(str, allowed)) or 'nothing'})."
                )
            kind = choices[0]
        else:
            kind = wanted[0]
        response = await self._send("POST", target, json={"ResetType": kind})
        if response.status_code >= 400:
            raise self._status_error("POST", target, response)
        return kind


def _json(response: httpx.Response) -> dict[str, Any]:
    if not response.content:
        return {}
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _redfish_message(response: httpx.Response) -> str:
    error = _json(response).get("error")
    if not isinstance(error, dict):
        return ""
    extended = error.get("@Message.ExtendedInfo")
    if isinstance(extended, list) and extended and isinstance(extended[0], dict):
        message = extended[0].get("Message")
        if isinstance(message, str):
            return _printable(message)
    message = error.get("message")
    return _printable(message) if isinstance(message, str) else ""


def _word(value: Any) -> str | None:
    """A short word from the BMC ("On", "OK"), printable; None if it is not one."""
    if not isinstance(value, str) or not value.strip():
        return None
    return _printable(value.strip(), 40)


def _printable(text: str, limit: int = 200) -> str:
    """A BMC's words, with control characters replaced, before they reach any terminal."""
    return "".join(c if c.isprintable() else "?" for c in text[:limit])
