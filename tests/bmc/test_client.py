"""What sushy's emulator does not offer, against a scripted Redfish service (httpx.MockTransport):
SessionService login and logout, power drawn (old and new schemas), which requests are retried.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from vdctui.drivers.bmc import BmcClient, BmcConfig, BmcError

SYSTEM = "/redfish/v1/Systems/1"


class Service:
    def __init__(self, chassis: dict[str, Any], extra: dict[str, Any] | None = None) -> None:
        self.calls: list[tuple[str, str]] = []
        self.failures: dict[tuple[str, str], int] = {}  # (method, path) -> 503s left to send
        self.resources: dict[str, Any] = {
            "/redfish/v1": {
                "SessionService": {"@odata.id": "/redfish/v1/SessionService"},
                "Links": {"Sessions": {"@odata.id": "/redfish/v1/SessionService/Sessions"}},
            },
            "/redfish/v1/Systems": {"Members": [{"@odata.id": SYSTEM}]},
            SYSTEM: {
                "PowerState": "On",
                "Status": {"Health": "Warning"},
                "Links": {"Chassis": [{"@odata.id": "/redfish/v1/Chassis/1"}]},
                "Actions": {
                    "#ComputerSystem.Reset": {
                        "target": f"{SYSTEM}/Actions/ComputerSystem.Reset",
                        "ResetType@Redfish.AllowableValues": ["On", "ForceOff", "ForceRestart"],
                    }
                },
            },
            "/redfish/v1/Chassis/1": chassis,
            **(extra or {}),
        }

    def __call__(self, request: httpx.Request) -> httpx.Response:
        method, path = request.method, request.url.path
        self.calls.append((method, path))
        if self.failures.get((method, path), 0) > 0:
            self.failures[(method, path)] -= 1
            return httpx.Response(503)
        if method == "POST" and path.endswith("/Sessions"):
            body = json.loads(request.content)
            if body != {"UserName": "ops", "Password": "pw"}:
                return httpx.Response(401)
            return httpx.Response(
                201, headers={"X-Auth-Token": "tok", "Location": f"{path}/9"}, json={}
            )
        if path != "/redfish/v1" and request.headers.get("X-Auth-Token") != "tok":
            return httpx.Response(401)
        if method == "DELETE":
            return httpx.Response(204)
        if method == "POST":
            return httpx.Response(204)
        if path in self.resources:
            body = json.dumps(self.resources[path])  # NaN too: a BMC may send anything
            return httpx.Response(200, content=body, headers={"Content-Type": "application/json"})
        return httpx.Response(404)


def client(service: Service, tmp_path: Path, **kwargs: Any) -> BmcClient:
    secret = tmp_path / "pw"
    secret.write_text("pw\n")
    config = BmcConfig("https://bmc.test", "ops", secret)
    return BmcClient(config, transport=httpx.MockTransport(service), **kwargs)


async def test_session_login_token_and_logout(tmp_path: Path) -> None:
    service = Service({})
    async with client(service, tmp_path) as bmc:
        assert bmc.uses_session
        assert (await bmc.reading()).health == "Warning"
    assert service.calls[1] == ("POST", "/redfish/v1/SessionService/Sessions")
    assert service.calls[-1] == ("DELETE", "/redfish/v1/SessionService/Sessions/9")


async def test_watts_from_power_control(tmp_path: Path) -> None:
    service = Service(
        {"Power": {"@odata.id": "/redfish/v1/Chassis/1/Power"}},
        {"/redfish/v1/Chassis/1/Power": {"PowerControl": [{"PowerConsumedWatts": 412}]}},
    )
    async with client(service, tmp_path) as bmc:
        assert (await bmc.reading()).watts == 412.0


async def test_watts_from_environment_metrics_first(tmp_path: Path) -> None:
    service = Service(
        {
            "EnvironmentMetrics": {"@odata.id": "/redfish/v1/Chassis/1/EnvironmentMetrics"},
            "Power": {"@odata.id": "/redfish/v1/Chassis/1/Power"},
        },
        {
            "/redfish/v1/Chassis/1/EnvironmentMetrics": {"PowerWatts": {"Reading": 388.5}},
            "/redfish/v1/Chassis/1/Power": {"PowerControl": [{"PowerConsumedWatts": 1}]},
        },
    )
    async with client(service, tmp_path) as bmc:
        assert (await bmc.reading()).watts == 388.5


@pytest.mark.parametrize("reported", [None, "lots", True, float("nan"), -5])
async def test_watts_not_reported_or_nonsense_is_unknown(tmp_path: Path, reported: Any) -> None:
    service = Service(
        {"Power": {"@odata.id": "/redfish/v1/Chassis/1/Power"}},
        {"/redfish/v1/Chassis/1/Power": {"PowerControl": [{"PowerConsumedWatts": reported}]}},
    )
    async with client(service, tmp_path) as bmc:
        assert (await bmc.reading()).watts is None


async def test_reads_are_retried_changes_are_not(tmp_path: Path) -> None:
    service = Service({})
    async with client(service, tmp_path, read_attempts=3) as bmc:
        service.failures[("GET", SYSTEM)] = 2
        assert await bmc.power_state() == "On"
        assert service.calls.count(("GET", SYSTEM)) >= 3
        reset = ("POST", f"{SYSTEM}/Actions/ComputerSystem.Reset")
        service.failures[reset] = 1
        with pytest.raises(BmcError, match="answered 503 to POST"):
            await bmc.reset("force-off")
        assert service.calls.count(reset) == 1


async def test_cycle_uses_what_the_bmc_allows(tmp_path: Path) -> None:
    service = Service({})
    async with client(service, tmp_path) as bmc:
        assert await bmc.reset("cycle") == "ForceRestart"  # PowerCycle is not offered
        with pytest.raises(BmcError, match="does not offer GracefulShutdown"):
            await bmc.reset("off")


async def test_wrong_password_on_session_login(tmp_path: Path) -> None:
    service = Service({})
    bmc = client(service, tmp_path)
    bmc.config.password_file.write_text("nope\n")
    with pytest.raises(BmcError, match="refused user 'ops': wrong user name or password"):
        await bmc.open()
