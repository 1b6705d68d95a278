"""The embedded fleet's driver: the emulated driver holding the fleet file's lock."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import emulator
from vdctui.drivers.emulated import EmulatedDriver

if TYPE_CHECKING:
    from vdctui.fleet_serving import RequestServer


class Lock(Protocol):
    def release(self) -> None: ...


class LockedEmulatedDriver(EmulatedDriver):
    """The embedded fleet's driver: holds the fleet file's lock until closed."""

    def __init__(self, fleet: emulator.Fleet, lock: Lock, **kwargs: object) -> None:
        super().__init__(fleet, **kwargs)  # type: ignore[arg-type]
        self._lock = lock
        self.server: RequestServer | None = None

    async def close(self) -> None:
        try:
            if self.server is not None:  # the changes under way for others answer first
                await self.server.stop()
            await super().close()  # saves the fleet
        finally:
            if self.fleet_file is not None:
                self.fleet_file.close()
            self._lock.release()
