"""Python's cycle collector paused while a poll fans out to every host.

A cold refresh makes thousands of short-lived objects a host (SSH packets, keys,
channels, parsed output): profiled over 50 emulated hosts, the collector ran ~15
young and one or two full collections a refresh, 15-25% of the console's CPU for it,
finding little (what a poll makes is freed by reference counting; what stays, the
connections, is meant to stay). `collection_paused()` holds it off while the fan-out
runs; it runs again as usual after (nested or overlapping fan-outs: after the last).
Nothing is leaked: what the collector would have found, it finds then.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

_held = 0  # fan-outs running now
_was_enabled = False  # whether the collector ran before the first of them


@contextlib.contextmanager
def collection_paused() -> Iterator[None]:
    global _held, _was_enabled
    if _held == 0:
        _was_enabled = gc.isenabled()
        gc.disable()
    _held += 1
    try:
        yield
    finally:
        _held -= 1
        if _held == 0 and _was_enabled:
            gc.enable()
