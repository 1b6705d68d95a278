"""The BMC driver against sushy-tools' Redfish emulator (HTTPS, htpasswd auth)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from tests.bmc.sushy import USER, Sushy, make_ca, start_sushy
from tests.waiting import ENOUGH
from vdctui.drivers.bmc import BmcClient, BmcConfig, BmcError, FenceFailed, fence


@pytest.fixture
def sushy(tmp_path: Path) -> Iterator[Sushy]:
    served = start_sushy(tmp_path)
    try:
        yield served
    finally:
        served.stop()


def config_for(sushy: Sushy) -> BmcConfig:
    return BmcConfig(sushy.url, USER, sushy.password_file, ca=sushy.ca)


async def wait_for_state(bmc: BmcClient, wanted: str) -> None:
    """The emulator applies a power change 1-11 s later, as real hardware takes its time."""
    deadline = time.monotonic() + ENOUGH
    while await bmc.power_state() != wanted:
        assert time.monotonic() < deadline, f"the power never became {wanted}"
        await asyncio.sleep(0.1)


async def test_reads_power_state_and_health_and_unknown_watts(sushy: Sushy) -> None:
    async with BmcClient(config_for(sushy)) as bmc:
        reading = await bmc.reading()
        assert not bmc.uses_session  # sushy offers no SessionService: basic auth
    assert reading.power_state == "On"
    assert reading.health == "OK"
    assert reading.watts is None  # sushy reports no power drawn: unknown, never 0


async def test_graceful_off_then_on_then_force_off(sushy: Sushy) -> None:
    async with BmcClient(config_for(sushy)) as bmc:
        assert await bmc.reset("off") == "GracefulShutdown"
        await wait_for_state(bmc, "Off")
        assert await bmc.reset("on") == "On"
        await wait_for_state(bmc, "On")
        assert await bmc.reset("force-off") == "ForceOff"
        await wait_for_state(bmc, "Off")


async def test_fence_confirms_off(sushy: Sushy) -> None:
    async with BmcClient(config_for(sushy)) as bmc:
        how = await fence(bmc, confirm_within_s=60, poll_s=0.2)
        assert "ForceOff sent" in how and "reports the power Off" in how
        assert await bmc.power_state() == "Off"


async def test_wrong_password_is_one_sentence(sushy: Sushy, tmp_path: Path) -> None:
    wrong = tmp_path / "wrong"
    wrong.write_text("not-the-password\n")
    config = replace(config_for(sushy), password_file=wrong)
    with pytest.raises(BmcError) as caught:
        await BmcClient(config).open()
    assert str(caught.value) == (
        f"The BMC at {sushy.url} refused user 'admin': wrong user name or password."
    )


async def test_password_from_env_var_named_in_the_file(
    sushy: Sushy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pointer = tmp_path / "pointer"
    pointer.write_text("env:TEST_BMC_PASSWORD\n")
    monkeypatch.setenv("TEST_BMC_PASSWORD", sushy.password_file.read_text().strip())
    async with BmcClient(replace(config_for(sushy), password_file=pointer)) as bmc:
        assert await bmc.power_state() == "On"


async def test_unknown_ca_is_refused(sushy: Sushy, tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    stranger, _, _ = make_ca(other, "stranger-ca")
    with pytest.raises(BmcError, match="certificate that is not trusted"):
        await BmcClient(replace(config_for(sushy), ca=stranger)).open()
    # and with no CA given, the system's trust store does not know the test CA either
    with pytest.raises(BmcError, match="certificate that is not trusted"):
        await BmcClient(replace(config_for(sushy), ca=None)).open()


async def test_insecure_skips_verification_only_when_asked(sushy: Sushy) -> None:
    config = replace(config_for(sushy), ca=None, insecure=True)
    async with BmcClient(config) as bmc:
        assert await bmc.power_state() == "On"


async def test_bmc_that_stops_answering_mid_fence_fails_the_fence(sushy: Sushy) -> None:
    bmc = BmcClient(config_for(sushy), timeout=2.0, read_attempts=2)
    await bmc.open()
    sent = bmc.reset

    async def reset_then_vanish(action: str) -> str:
        kind = await sent(action)
        sushy.kill()  # between ForceOff and the first poll
        return kind

    bmc.reset = reset_then_vanish  # type: ignore[method-assign]
    try:
        with pytest.raises(FenceFailed) as caught:
            await fence(bmc, confirm_within_s=1.0, poll_s=0.2)
    finally:
        await bmc.close()
    assert "ForceOff was sent but the power was never confirmed Off" in str(caught.value)
    assert "cannot be reached" in str(caught.value)


async def test_several_systems_need_bmc_system(tmp_path: Path) -> None:
    systems = [
        {"uuid": str(uuid.uuid4()), "name": name, "power_state": "On"} for name in ("a", "b")
    ]
    served = start_sushy(tmp_path, systems)
    try:
        with pytest.raises(BmcError, match=r"has several systems \(.+, .+\); name one"):
            await BmcClient(config_for(served)).open()
        chosen = replace(config_for(served), system=str(systems[1]["uuid"]))
        async with BmcClient(chosen) as bmc:
            assert bmc.system_path.endswith(str(systems[1]["uuid"]))
        missing = replace(config_for(served), system="nope")
        with pytest.raises(BmcError, match="answered 404"):
            await BmcClient(missing).open()
    finally:
        served.stop()
