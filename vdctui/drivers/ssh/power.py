"""Host power for the SSH driver, out of band: each host's Redfish BMC (inventory `bmc` keys).

One open client (one Redfish session) per BMC, opened when first needed and reopened after
a failure. Readings taken during a poll are bounded in time and never fail the poll: a BMC
that does not answer leaves the power unknown.
"""

from __future__ import annotations

import asyncio
import contextlib

from vdctui.drivers.base import FenceNotConfirmed, HostUnreachable, InvalidOperation
from vdctui.drivers.bmc import BmcClient, BmcError, BmcNoAnswer, BmcReading, fence
from vdctui.drivers.ssh.inventory import InventoryHost

READING_BUDGET_S = 5.0  # a poll waits at most this long for a BMC


class BmcPower:
    def __init__(
        self, *, confirm_within_s: float = 60.0, poll_s: float = 1.0, timeout_s: float = 10.0
    ) -> None:
        self.confirm_within_s = confirm_within_s
        self.poll_s = poll_s
        self.timeout_s = timeout_s
        self._clients: dict[str, BmcClient] = {}
        self._opening: dict[str, asyncio.Lock] = {}

    async def _client(self, inv: InventoryHost) -> BmcClient:
        if inv.bmc is None:
            raise InvalidOperation(
                f"Host {inv.name} has no BMC in the inventory (add bmc, bmc_user and "
                "bmc_password_file), so the console cannot power it on or off."
            )
        lock = self._opening.setdefault(inv.name, asyncio.Lock())
        async with lock:
            client = self._clients.get(inv.name)
            if client is None:
                client = BmcClient(inv.bmc, timeout=self.timeout_s)
                await client.open()
                self._clients[inv.name] = client
            return client

    async def _forget(self, name: str) -> None:
        client = self._clients.pop(name, None)
        if client is not None:
            with contextlib.suppress(BmcError):
                await client.close()

    async def reading(self, inv: InventoryHost) -> BmcReading | None:
        """The BMC's reading, or None (no BMC, or it did not answer within the budget)."""
        if inv.bmc is None:
            return None
        try:
            async with asyncio.timeout(READING_BUDGET_S):
                return await (await self._client(inv)).reading()
        except (BmcError, TimeoutError):
            await self._forget(inv.name)
            return None

    async def reset(self, inv: InventoryHost, action: str) -> str:
        """Power `action` ("on", "off", "force-off", "cycle"); returns the ResetType sent."""
        try:
            return await (await self._client(inv)).reset(action)
        except BmcNoAnswer as exc:  # it may have acted: a failure, not a refusal
            await self._forget(inv.name)
            raise HostUnreachable(f"Host {inv.name}: {exc}") from None
        except BmcError as exc:
            await self._forget(inv.name)
            raise InvalidOperation(f"Host {inv.name}: {exc}") from None

    async def fence(self, inv: InventoryHost) -> str:
        """ForceOff and confirm Off through the BMC; raises FenceNotConfirmed otherwise."""
        try:
            client = await self._client(inv)
            return await fence(client, confirm_within_s=self.confirm_within_s, poll_s=self.poll_s)
        except BmcError as exc:  # FenceFailed, or the BMC could not even be opened
            await self._forget(inv.name)
            raise FenceNotConfirmed(f"The fence of host {inv.name} failed: {exc}") from None

    async def close(self) -> None:
        for name in list(self._clients):
            await self._forget(name)
