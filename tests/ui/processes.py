"""Other `vdctui` processes beside a Pilot console, on the same --db: a command started
(its output read as it comes), a command run to its end, and `vdctui emulate` holding the
embedded fleet for the block's length. Every wait is bounded by ENOUGH."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

from tests.waiting import ENOUGH

ROOT = Path(__file__).resolve().parents[2]


async def started(*args: str, stdout: int = asyncio.subprocess.PIPE) -> asyncio.subprocess.Process:
    """`vdctui ARGS` started, its stderr piped (and its stdout, unless said otherwise)."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "vdctui",
        *args,
        stdout=stdout,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


async def said(proc: asyncio.subprocess.Process, words: bytes) -> bytes:
    """Read the process's stderr until it says `words`."""
    assert proc.stderr is not None
    heard = b""
    while words not in heard:
        line = await asyncio.wait_for(proc.stderr.readline(), ENOUGH)
        assert line, heard
        heard += line
    return heard


async def vdctui(db: Path, *args: str) -> tuple[int, str, str]:
    """`vdctui --db DB ARGS` in another process, while this one's event loop runs."""
    proc = await started("--db", str(db), *args)
    out, err = await asyncio.wait_for(proc.communicate(), ENOUGH)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


@contextlib.asynccontextmanager
async def emulating(db: Path) -> AsyncIterator[asyncio.subprocess.Process]:
    """`vdctui --db DB emulate` in another process, once it runs the fleet in real time
    (it holds it: a console opened on DB follows it); stopped with Ctrl-C at the end of
    the block, if the block did not stop it."""
    holder = await started("--db", str(db), "emulate", stdout=asyncio.subprocess.DEVNULL)
    try:
        await said(holder, b"Running in real time")
        yield holder
    finally:
        if holder.returncode is None:
            holder.send_signal(signal.SIGINT)
            try:
                await asyncio.wait_for(holder.communicate(), ENOUGH)
            except TimeoutError:
                holder.kill()
                await holder.wait()
                raise AssertionError("vdctui emulate did not stop on Ctrl-C") from None
