"""Ctrl-C on a command carried out step by step (`balance --apply`, `ha restart`): it
asks the task to stop after the step under way, where the task runs (this process, or
the one that holds the embedded fleet), instead of interrupting this process."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Iterator

from vdctui.cli.output import say
from vdctui.ops.stepping import Started, Stepping


@contextlib.contextmanager
def ctrl_c_stops(what: str) -> Iterator[Started]:
    """The `started` callback for a task: from then on (until the block ends) Ctrl-C
    cancels it after its current step; the first line says so on stderr."""
    loop = asyncio.get_running_loop()

    def started(stepping: Stepping) -> None:
        # the handler first: once the line is out, Ctrl-C must cancel, not interrupt
        loop.add_signal_handler(signal.SIGINT, lambda: _cancel(stepping))
        say(
            f"task {stepping.task_id}: {what}, {stepping.steps} step(s); Ctrl-C stops "
            "after the current step",
            err=True,
        )

    try:
        yield started
    finally:
        loop.remove_signal_handler(signal.SIGINT)


def _cancel(stepping: Stepping) -> None:
    say("cancelling after the current step ...", err=True)
    stepping.cancel()
