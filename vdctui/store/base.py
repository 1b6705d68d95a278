"""What every part of the Store shares: the database, the clock, small helpers."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from vdctui.store.connection import SharedDatabase


class StoreBase:
    """State the mixins of `Store` rely on; `Store.__init__` fills it in."""

    _db: SharedDatabase
    _clock: Callable[[], float]
    path: str
    writable: bool = True  # False: this process may only read the file

    def _now(self) -> float:
        return float(self._clock())

    def now(self) -> float:
        """The store's clock (wall time, or a fixed one in tests and screenshots)."""
        return self._now()


_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=str)


def to_json(value: Any) -> str:
    """The canonical JSON text the store writes (sorted keys, no spaces).

    Values JSON cannot hold are written as their str().
    """
    return _ENCODER.encode(value)


def like_pattern(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, with % and _ taken literally (ESCAPE '\\')."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
