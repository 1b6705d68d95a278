"""The fleet's change feed: which objects changed since a version of it (issue 10).

Every change to an object of the fleet that its file keeps (`touch`, `forget`: a VM
defined, started, moved, resized, undefined; a host crashed, partitioned, added) moves
the feed's version on by one and notes the object with it. A reader that remembers the
version it last read asks `since(version)` for the objects changed after it: a console
syncing 100,000 VMs then reads the few that changed, not all of them. The feed keeps
the last change of at most `limit` objects; a reader further behind than that is told
so (None) and reads everything again. Figures that move all the time (a VM's CPU, a
host's power) are not changes of the feed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

FEED_LIMIT = 20_000  # objects whose last change the feed keeps


@dataclass(frozen=True, slots=True)
class Changes:
    """What changed after a version: names by kind, and which of them are gone."""

    version: int  # the feed's version now: ask since this one next time
    changed: dict[str, frozenset[str]] = field(default_factory=dict)  # kind -> names
    gone: frozenset[tuple[str, str]] = frozenset()  # (kind, name) removed from the fleet

    def of(self, kind: str) -> frozenset[str]:
        return self.changed.get(kind, frozenset())


class ChangeFeed:
    """Versions of the fleet's objects' last changes, the newest `limit` of them."""

    def __init__(self, limit: int = FEED_LIMIT) -> None:
        self.version = 0
        self.limit = limit
        self._last: dict[tuple[str, str], tuple[int, bool]] = {}  # oldest change first
        self._dropped = 0  # the newest version no longer in the feed

    def record(self, kind: str, name: str, *, gone: bool = False) -> None:
        self.version += 1
        key = (kind, name)
        self._last.pop(key, None)
        self._last[key] = (self.version, gone)
        while len(self._last) > self.limit:
            self._dropped = self._last.pop(next(iter(self._last)))[0]

    def since(self, version: int) -> Changes | None:
        """The objects changed after `version`; None when the feed no longer holds all of
        them (it overflowed since) or `version` is not one of this feed's."""
        if version < self._dropped or version > self.version:
            return None
        changed: dict[str, set[str]] = {}
        gone: set[tuple[str, str]] = set()
        for (kind, name), (at, removed) in reversed(self._last.items()):
            if at <= version:
                break
            changed.setdefault(kind, set()).add(name)
            if removed:
                gone.add((kind, name))
        return Changes(self.version, {k: frozenset(v) for k, v in changed.items()}, frozenset(gone))
