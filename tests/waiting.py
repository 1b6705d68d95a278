"""How long a test waits for what must happen (a process's line, a request's state, a
sync), on any machine: ENOUGH, a bound so that a broken test fails with an assertion
that names what never happened, well before pytest's timeout (pyproject.toml, 300 s)
would kill it with an unhelpful stack. Never a measure: every wait is for a condition,
and a slow machine (CI's is slower than a developer's) only makes it take longer.

tests/test_waiting.py checks that ENOUGH stays below pytest's timeout."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable
from typing import IO, TypeVar

T = TypeVar("T")

ENOUGH = 120.0  # seconds; below pytest's timeout, so a wait that never ends is named
POLL_S = 0.05  # how often a condition is looked at again


def until(condition: Callable[[], T], what: str, *, within: float = ENOUGH) -> T:
    """`condition()`'s first true value, looked at every POLL_S; fails naming `what` if
    it never comes within `within` seconds."""
    deadline = time.monotonic() + within
    while not (held := condition()):
        assert time.monotonic() < deadline, f"never happened within {within:g} s: {what}"
        time.sleep(POLL_S)
    return held


async def eventually(condition: Callable[[], T], what: str, *, within: float = ENOUGH) -> T:
    """`until`, while this process's event loop runs."""
    deadline = time.monotonic() + within
    while not (held := condition()):
        assert time.monotonic() < deadline, f"never happened within {within:g} s: {what}"
        await asyncio.sleep(POLL_S)
    return held


async def finished(work: Awaitable[T], what: str, *, within: float = ENOUGH) -> T:
    """`work`'s result; fails naming `what` if it has not ended within `within` seconds
    (a call that must end by itself: a timeout that fires, a refusal)."""
    try:
        return await asyncio.wait_for(work, within)
    except TimeoutError:
        raise AssertionError(f"never happened within {within:g} s: {what}") from None


def said(stream: IO[str], words: str, what: str, *, within: float = ENOUGH) -> str:
    """What `stream` (a process's pipe) said up to its first line with `words`. Fails
    naming `what`, with what it said, when no such line comes within `within` seconds (a
    process that hangs silent or ends): a bare readline() would wait for ever."""
    heard: list[str] = []

    def read() -> None:
        for line in stream:
            heard.append(line)
            if words in line:
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(within)
    text = "".join(heard)
    assert words in text, f"never said {words!r} within {within:g} s ({what}):\n{text}"
    return text
