"""The embedded fleet, shared by every process that opens the same --db (issue 10).

Design: the process that holds the fleet's lock runs the fleet (its clock, its
migrations) and serves it; every other process is a console (or a command) that
reads the store the holder syncs and hands its changes to the holder through the
store:

- `SharedFleet` is attached to a console whose fleet another process holds. A change
  that needs the fleet (`requests.CARRIED`: VM lifecycle, resize, create, migrate)
  is role-checked here first (a refusal is audited here and asks nothing), then
  written as a request (action, target, parameters, actor and role); the holder takes
  it and carries it out through the same ops door as the asker. The asker waits for
  the answer; a migration's progress is then followed in its task row, like any
  console does. A change that writes the store alone runs here. Anything else needs
  the fleet itself: it waits for the lock (bounded), then runs here.
- While it waits, if the holder is gone (the lock is free) and the request is still
  pending, the asker withdraws it (once, in a write transaction: it is carried out
  by exactly one process), takes the lock and does the change itself. A request no
  holder takes within the bound is withdrawn and said in one sentence; one whose
  taker died before answering is said too (its task, if any, is ended as interrupted
  by the next sync, as for any dead process).
- `take_over` is also tried at each sync of a console that follows the store: when
  the holder exits, the next console to sync takes the lock, loads the fleet (which
  the holder saved on exit) and becomes the holder.
- `RequestServer` runs in the holder beside its clock: it polls the requests table
  (a read that finds nothing costs a few microseconds), takes each request in a write
  transaction and carries it out in its own asyncio task, so a slow one holds no
  other one up.

Why not the fleet file as the truth, reloaded by each process under a write
transaction? The emulated fleet is a simulation that lives in one process's memory
on a clock: a migration's pre-copy rounds advance on the holder's clock loop, and
saving and reloading a 100,000-VM fleet takes seconds. Serving it from the holder
keeps one fleet with one clock, makes a change cost a round trip through the store
(tens of milliseconds), and keeps every guarantee of the ops door where it is.
What it costs: the asker's actor and role are written by the asker; the holder
checks the role again from the db, but cannot tell who wrote the request (anyone
who can write the db can write one, as they can write audit records: see the README).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from vdctui.backend import BackendError, FleetLock, attach_embedded
from vdctui.ops import Console, Failed, Identity, Refused
from vdctui.ops.actions import Action
from vdctui.ops.migration import ProgressListener
from vdctui.ops.requests import CARRIED, perform, result_of
from vdctui.store.requests import ANSWERED, DONE, FAILED, PENDING, REFUSED, TAKEN, FleetRequest

T = TypeVar("T")

ASK_EVERY_S = 0.05  # how often the asker reads its request
SERVE_EVERY_S = 0.05  # how often the holder looks for requests


class _TookOver(Exception):
    """The holder was gone: this process took the fleet and carries the change out."""


class SharedFleet:
    """What a console whose embedded fleet another process holds does with changes."""

    def __init__(
        self, db: Path, lock: FleetLock, identity: Identity, *, speed: float | None, wait_s: float
    ) -> None:
        self.db = db
        self.lock = lock
        self.identity = identity  # the console's own, before the note said who holds it
        self.speed = speed
        self.wait_s = wait_s
        self._taking = asyncio.Lock()

    async def take_over(self, console: Console) -> bool:
        """Hold the fleet if nobody does any more: lock, load it, serve; whether it did."""
        async with self._taking:
            if console.shared is not self or self.lock.held_by_another():
                return console.shared is None
            try:
                self.lock.acquire(0.0)
            except BackendError:
                return False
            console.shared = None
            console.identity = self.identity
            try:
                await attach_embedded(console, self.lock, self.db, speed=self.speed)
            except BaseException:
                self.lock.release()
                console.shared = self
                raise
            console.follows_store = False
            return True

    async def hand_over(
        self,
        console: Console,
        action: Action,
        target: str,
        params: dict[str, Any],
        work: Callable[[], Awaitable[T]],
        on_progress: ProgressListener | None = None,
    ) -> T:
        """The door's work for a change while another process holds the fleet."""
        if action not in CARRIED:  # it needs the fleet itself: wait for it, then do it here
            console.require(action, target, params)
            if await self._fleet_freed(console):
                return await console.change(action, target, params, work)
            raise Failed(
                f"{action.what} needs the embedded data center itself, which "
                f"{self.lock.holder()} holds (waited {self.wait_s:g} s); "
                "run it there, or once that process is closed."
            )
        console.require(action, target, params)  # refused here: audited, nothing asked
        try:
            request = await self._ask(console, action, target, params)
        except _TookOver:
            return await console.change(action, target, params, work, on_progress=on_progress)
        if request.state == REFUSED:
            raise Refused(request.error)
        if request.state == FAILED:
            raise Failed(request.error)
        answer = result_of(console, action, target, params, request.answer, on_progress)
        return answer  # type: ignore[no-any-return]

    async def _fleet_freed(self, console: Console) -> bool:
        deadline = time.monotonic() + self.wait_s
        while True:
            if await self.take_over(console):
                return True
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(ASK_EVERY_S * 2)

    async def _ask(
        self, console: Console, action: Action, target: str, params: dict[str, Any]
    ) -> FleetRequest:
        store, who = console.store, console.identity
        request_id = store.ask(action.id, target, params, who.actor, who.role)
        deadline = time.monotonic() + self.wait_s
        try:
            while True:
                request = store.request(request_id)
                if request is None:
                    raise Failed(f"The request {request_id} is no longer in the store.")
                if request.state in ANSWERED:
                    return request
                if request.state == PENDING:
                    if not self.lock.held_by_another() and store.withdraw_request(request_id):
                        if await self.take_over(console):
                            raise _TookOver
                        request_id = store.ask(action.id, target, params, who.actor, who.role)
                    elif time.monotonic() >= deadline and store.withdraw_request(request_id):
                        raise Failed(
                            f"{self.lock.holder()} holds the data center but did not take "
                            f"the change within {self.wait_s:g} s; nothing was changed."
                        )
                elif request.state == TAKEN and not request.taker_alive():
                    raise Failed(
                        f"The process that took the change (pid {request.taker_pid}) stopped "
                        "before it answered; `vdctui task list` and `vdctui audit list` say "
                        "what was done."
                    )
                await asyncio.sleep(ASK_EVERY_S)
        except asyncio.CancelledError:
            # stopped waiting: a change nobody took yet is not made at all
            with contextlib.suppress(Exception):
                store.withdraw_request(request_id)
            raise


class RequestServer:
    """The holder's side: takes the other processes' requests and carries them out."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self._loop: asyncio.Task[None] | None = None
        self._running: set[asyncio.Task[None]] = set()

    def start(self) -> None:
        if self.console.store.writable:
            self._loop = asyncio.get_running_loop().create_task(self._serve())

    async def stop(self) -> None:
        """Take no more requests; let the ones under way answer."""
        if self._loop is not None:
            self._loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop
            self._loop = None
        if self._running:
            await asyncio.gather(*self._running, return_exceptions=True)

    async def _serve(self) -> None:
        store = self.console.store
        while True:
            request = None
            with contextlib.suppress(Exception):  # a busy or failing store: look again
                if store.has_pending_requests():
                    request = store.take_request()
            if request is None or request.state != TAKEN:
                await asyncio.sleep(SERVE_EVERY_S)
                continue
            task = asyncio.get_running_loop().create_task(self._carry_out(request))
            self._running.add(task)
            task.add_done_callback(self._running.discard)

    async def _carry_out(self, request: FleetRequest) -> None:
        store = self.console.store
        try:
            answer = await perform(self.console, request)
        except Refused as exc:
            store.answer_request(request.id, REFUSED, error=str(exc))
        except Failed as exc:
            store.answer_request(request.id, FAILED, error=str(exc))
        except Exception as exc:  # noqa: BLE001 - the asker is told; the holder goes on
            why = f"the process that holds the data center could not carry it out: {exc!r}"
            store.answer_request(request.id, FAILED, error=why)
        else:
            store.answer_request(request.id, DONE, answer=answer, task_id=answer.get("task"))
