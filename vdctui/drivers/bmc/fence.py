"""Fencing through a BMC: ForceOff, then poll until the BMC itself reports the power Off.

Anything short of that confirmation is a failed fence: the caller must not restart the
host's VMs elsewhere (two copies of a VM writing one disk is the failure fencing prevents).
"""

from __future__ import annotations

import asyncio
import time

from vdctui.drivers.bmc.client import BmcClient
from vdctui.drivers.bmc.config import BmcError

DEFAULT_CONFIRM_S = 60.0
DEFAULT_POLL_S = 1.0


class FenceFailed(BmcError):
    """The host was not proven powered off; the message says why in one sentence."""


async def fence(
    bmc: BmcClient, *, confirm_within_s: float = DEFAULT_CONFIRM_S, poll_s: float = DEFAULT_POLL_S
) -> str:
    """Cut the host's power and confirm it; returns how it was confirmed, or raises FenceFailed."""
    url = bmc.config.url
    try:
        if await bmc.power_state() == "Off":
            return f"the BMC at {url} already reports the power Off"
        kind = await bmc.reset("force-off")
    except BmcError as exc:
        raise FenceFailed(f"ForceOff was not accepted: {exc}") from None
    deadline = time.monotonic() + confirm_within_s
    last_state: str | None = None
    last_error: BmcError | None = None
    while True:
        try:
            last_state = await bmc.power_state()
            last_error = None
        except BmcError as exc:
            last_error = exc
        if last_state == "Off" and last_error is None:
            return f"{kind} sent; the BMC at {url} reports the power Off"
        if time.monotonic() >= deadline:
            break
        await asyncio.sleep(poll_s)
    if last_error is not None:
        raise FenceFailed(
            f"{kind} was sent but the power was never confirmed Off within "
            f"{confirm_within_s:g} s: {last_error}"
        )
    raise FenceFailed(
        f"{kind} was sent but the BMC at {url} still reports the power "
        f"{last_state or 'unknown'} after {confirm_within_s:g} s."
    )
