"""`vdctui emulate` in real time leaves its data center out of the cycle collector's
full passes (at 500 hosts each took 60-70 ms, in the middle of answering SSH polls) and
collects young objects less often."""

from __future__ import annotations

import gc
from typing import Any

import pytest

from vdctui.cli import emulate


class _Stopped(Exception):
    pass


async def test_running_in_real_time_freezes_what_was_built() -> None:
    built = [object() for _ in range(10)]  # stands for the data center's objects
    frozen_while_running: list[int] = []
    thresholds: list[tuple[int, int, int]] = []
    usual = gc.get_threshold()

    class Driver:
        async def next_step(self) -> None:
            frozen_while_running.append(gc.get_freeze_count())
            thresholds.append(gc.get_threshold())
            raise _Stopped

    try:
        before = gc.get_freeze_count()
        with pytest.raises(_Stopped):
            await emulate._run_realtime(Any, Driver(), 1.0)  # type: ignore[arg-type]
        assert frozen_while_running and frozen_while_running[0] > before + len(built)
        assert thresholds == [emulate.GC_THRESHOLDS]
    finally:
        gc.unfreeze()
        gc.set_threshold(*usual)
