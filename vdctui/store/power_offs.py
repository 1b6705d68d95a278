"""Why a host is powered off: who or what cut it (the balancer, an operator, a fence).

The balancer wakes only hosts it powered off itself; a host an operator powered off or a
fence cut stays off until someone powers it on. One row per host that the console powered
off, written by the change that did it and removed when the console powers it on again.
"""

from __future__ import annotations

from vdctui.frozen import frozen
from vdctui.store.base import StoreBase

POWERED_OFF_BY = ("balancer", "operator", "fence")


@frozen
class PowerOff:
    """Who powered `host` off (`by`: balancer, operator or fence), as whom, and when."""

    host: str
    by: str
    actor: str
    at: float


def migration_power_offs(db) -> None:  # type: ignore[no-untyped-def]
    db.execute(
        """CREATE TABLE host_power_offs (
            host TEXT PRIMARY KEY,
            by TEXT NOT NULL CHECK (by IN ('balancer', 'operator', 'fence')),
            actor TEXT NOT NULL, at REAL NOT NULL)"""
    )


class PowerOffStore(StoreBase):
    def record_power_off(self, host: str, by: str, actor: str) -> PowerOff:
        """Remember that `by` (as `actor`) powered `host` off, now (replacing any older)."""
        if by not in POWERED_OFF_BY:
            raise ValueError(f"powered off by {by!r} is not one of {', '.join(POWERED_OFF_BY)}")
        off = PowerOff(host, by, actor, self._now())
        with self._db.atomic():
            self._db.execute(
                "INSERT INTO host_power_offs (host, by, actor, at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(host) DO UPDATE SET by = excluded.by, actor = excluded.actor, "
                "at = excluded.at",
                [off.host, off.by, off.actor, off.at],
            )
        return off

    def clear_power_off(self, host: str) -> None:
        """The console powered `host` on: no longer off for anyone's reason."""
        with self._db.atomic():
            self._db.execute("DELETE FROM host_power_offs WHERE host = ?", [host])

    def power_offs(self) -> dict[str, PowerOff]:
        """Each host the console powered off (and has not powered on since)."""
        rows = self._db.execute("SELECT host, by, actor, at FROM host_power_offs")
        return {r[0]: PowerOff(r[0], r[1], r[2], float(r[3])) for r in rows}
