"""A poll's BMC reading costs as few requests as it can: what does not change is cached
(the system, where the watts come from, that none are offered), readings asked at once
share one, and no more than a few requests are in flight per BMC."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from tests.bmc.test_client import SYSTEM, Service, client
from vdctui.drivers.bmc import BmcClient, BmcConfig

POWER = "/redfish/v1/Chassis/1/Power"
CHASSIS = "/redfish/v1/Chassis/1"


def with_watts() -> Service:
    return Service(
        {"Power": {"@odata.id": POWER}}, {POWER: {"PowerControl": [{"PowerConsumedWatts": 400}]}}
    )


async def test_the_watts_source_is_found_once_then_read_directly(tmp_path: Path) -> None:
    service = with_watts()
    async with client(service, tmp_path) as bmc:
        opened = len(service.calls)
        for _ in range(3):
            assert (await bmc.reading()).watts == 400.0
        calls = service.calls[opened:]
    assert calls.count(("GET", SYSTEM)) == 3
    assert calls.count(("GET", CHASSIS)) == 1  # the chassis is looked at once
    assert calls.count(("GET", POWER)) == 3
    assert len(calls) == 7  # not 9


async def test_a_bmc_without_watts_is_not_asked_again_each_poll(tmp_path: Path) -> None:
    service = Service({})  # a chassis with no power resource
    async with client(service, tmp_path) as bmc:
        opened = len(service.calls)
        for _ in range(3):
            assert (await bmc.reading()).watts is None
        assert service.calls[opened:].count(("GET", CHASSIS)) == 1
        bmc.rediscover_s = 0  # looked for again after a while (a BMC may start offering it)
        await bmc.reading()
        assert service.calls[opened:].count(("GET", CHASSIS)) == 2


async def test_a_source_that_goes_away_is_looked_for_again(tmp_path: Path) -> None:
    service = with_watts()
    async with client(service, tmp_path) as bmc:
        await bmc.reading()
        del service.resources[POWER]  # 404 from now on
        assert (await bmc.reading()).watts is None
        service.resources[POWER] = {"PowerControl": [{"PowerConsumedWatts": 410}]}
        bmc.rediscover_s = 0
        assert (await bmc.reading()).watts == 410.0


def slow_client(
    service: Service, tmp_path: Path, in_flight: int = 3
) -> tuple[BmcClient, list[int]]:
    """A client whose BMC takes a moment to answer; the list holds the peak in flight."""
    flying, peak = 0, [0]

    async def slow(request: httpx.Request) -> httpx.Response:
        nonlocal flying
        flying += 1
        peak[0] = max(peak[0], flying)
        await asyncio.sleep(0.01)
        flying -= 1
        return service(request)

    secret = tmp_path / "pw"
    secret.write_text("pw\n")
    config = BmcConfig("https://bmc.test", "ops", secret)
    return BmcClient(config, transport=httpx.MockTransport(slow), in_flight=in_flight), peak


async def test_readings_asked_at_once_share_one(tmp_path: Path) -> None:
    service = with_watts()
    bmc, _ = slow_client(service, tmp_path)
    async with bmc:
        opened = len(service.calls)
        readings = await asyncio.gather(*(bmc.reading() for _ in range(5)))
        assert all(r.watts == 400.0 for r in readings)
        assert service.calls[opened:].count(("GET", SYSTEM)) <= 2  # not 5


async def test_no_more_than_a_few_requests_in_flight(tmp_path: Path) -> None:
    bmc, peak = slow_client(with_watts(), tmp_path, in_flight=2)
    async with bmc:
        await asyncio.gather(*(bmc.get(SYSTEM) for _ in range(10)))
    assert peak[0] == 2
