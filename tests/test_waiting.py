"""The tests' bound on a wait (tests/waiting.py) fails before pytest's timeout: on a slow
CI a wait that never ends must say what it awaited, not show as a pytest-timeout stack
(ENOUGH was 300 s, pytest's timeout too, so every broken wait was a timeout)."""

from __future__ import annotations

import asyncio
import io
import tomllib
from pathlib import Path

import pytest

from tests import waiting

ROOT = Path(__file__).resolve().parents[1]


def test_a_wait_gives_up_well_before_pytest_does() -> None:
    options = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]
    timeout = float(options["ini_options"]["timeout"])
    assert timeout >= waiting.ENOUGH * 2, (waiting.ENOUGH, timeout)


def test_a_condition_that_never_holds_is_named() -> None:
    with pytest.raises(AssertionError, match="never happened within 0.1 s: the holder's line"):
        waiting.until(lambda: False, "the holder's line", within=0.1)
    assert waiting.until(lambda: "said", "a line") == "said"


async def test_a_condition_awaited_is_named_too() -> None:
    with pytest.raises(AssertionError, match="never happened within 0.1 s: a request taken"):
        await waiting.eventually(lambda: None, "a request taken", within=0.1)
    assert await waiting.eventually(lambda: 7, "a number") == 7
    with pytest.raises(AssertionError, match="never happened within 0.1 s: the read timed out"):
        await waiting.finished(asyncio.Event().wait(), "the read timed out", within=0.1)
    assert await waiting.finished(asyncio.sleep(0, "read"), "a read") == "read"


def test_a_line_never_said_is_named_with_what_was() -> None:
    stream = io.StringIO("vdctui: loading\ntask 3: migrating; Ctrl-C cancels\nlater\n")
    assert waiting.said(stream, "Ctrl-C cancels", "the task") == (
        "vdctui: loading\ntask 3: migrating; Ctrl-C cancels\n"
    )
    with pytest.raises(AssertionError, match="never said 'Ctrl-C' within 0.1 s .the task.:\nnone"):
        waiting.said(io.StringIO("none\n"), "Ctrl-C", "the task", within=0.1)
