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
  console does. A fleet operation (vdctui.ops.handover: a change of several steps, or
  a read of a host, like a VM's XML) travels the same way, whole. A change that writes
  the store alone runs here. Anything else (requests.NOT_HANDED_OVER: a VM's serial
  console) needs the fleet itself: said at once beside a holder that keeps the fleet (a
  console, `vdctui emulate`); beside a command that gives it back once done, it waits
  for the lock (bounded), then runs here.
- While it waits, if the holder is gone (the lock is free) and the request is still
  pending, the asker withdraws it (once, in a write transaction: it is carried out
  by exactly one process), takes the lock and does the change itself. A request no
  holder takes within the bound is withdrawn and said in one sentence; one whose
  taker died before answering is said too (its task, if any, is ended as interrupted
  by the next sync, as for any dead process).
- `take_over` is also tried at each sync of a console that follows the store: when
  the holder exits, the next console to sync takes the lock, loads the fleet (which
  the holder saved on exit) and becomes the holder.
- `RequestServer` (vdctui.fleet_serving) runs in the holder beside its clock: it takes
  each request its asker announces on the socket (in a write transaction: once) and
  carries it out in its own asyncio task, so a slow one holds no other one up; it writes
  the progress a fleet operation reports into the row (vdctui.ops.handover), and stops
  what an asker cancels.

Why not the fleet file as the truth, reloaded by each process under a write
transaction? The emulated fleet is a simulation that lives in one process's memory
on a clock: a migration's pre-copy rounds advance on the holder's clock loop, and
saving and reloading a 100,000-VM fleet takes seconds. Serving it from the holder
keeps one fleet with one clock, makes a change cost a round trip through the store
(tens of milliseconds), and keeps every guarantee of the ops door where it is.
Who asks is what the OS says: the holder takes a request only when a process of the
OS user it names announces it on the holder's Unix socket (vdctui.fleet_socket,
SO_PEERCRED), with the digest of what it asked; a row written in the db by other means,
or rewritten there since, is refused and audited. The role is checked again from the
db, the one the request carries can only lower it. A read (a fleet operation that
changes nothing) leaves no row once answered: a following console's screens read at
every refresh.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from vdctui.backend import BackendError, FleetLock, attach_embedded
from vdctui.fleet_socket import announce, refusal
from vdctui.ops import Console, Failed, Identity, Refused
from vdctui.ops.actions import Action
from vdctui.ops.errors import NotAllowed
from vdctui.ops.handover import FLEET, TookTheFleet, is_read
from vdctui.ops.migration import ProgressListener
from vdctui.ops.requests import CARRIED, result_of
from vdctui.store.requests import (
    ANSWERED,
    BY_ROLE,
    CANCELLED,
    DONE,
    FAILED,
    PENDING,
    REFUSED,
    UNDER_WAY,
    FleetRequest,
    fingerprint,
)
from vdctui.store.store import Store

T = TypeVar("T")

ASK_EVERY_S = 0.05  # how often the asker reads its request
CANCEL_WAIT_S = 10.0  # after Ctrl-C, how long the asker waits to say what became of it

Deliver = Callable[[str, Any], Any]


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
            waited = await self._fleet_freed(console)
            if waited is None:
                return await console.change(action, target, params, work)
            raise Failed(
                f"{action.what} needs the embedded data center itself, which "
                f"{self.lock.holder()} holds{f' (waited {waited:g} s)' if waited else ''}; "
                "run it there, or once that process is closed."
            )
        console.require(action, target, params)  # refused here: audited, nothing asked
        try:
            request = await self._ask(console, action.id, target, params)
        except TookTheFleet:
            return await console.change(action, target, params, work, on_progress=on_progress)
        answer = result_of(console, action, target, params, _answer(request), on_progress)
        return answer  # type: ignore[no-any-return]

    async def hand_over_operation(
        self, console: Console, name: str, target: str, params: dict[str, Any], deliver: Deliver
    ) -> Any:
        """A fleet operation (vdctui.ops.handover) while another process holds the fleet:
        carried out there, its progress delivered here; its encoded result. Raises
        TookTheFleet when the holder was gone and this process took the fleet over."""
        request = await self._ask(console, name, target, params, deliver, read=is_read(name))
        return _answer(request).get("result")

    async def _fleet_freed(self, console: Console) -> float | None:
        """Take the fleet over once its holder lets it go: None when this process holds
        it now, else how long it waited (not at all for a holder that keeps the fleet
        until an operator closes it: a console, `vdctui emulate`)."""
        wait_s = 0.0 if self.lock.keeper() else self.wait_s
        deadline = time.monotonic() + wait_s
        while True:
            if await self.take_over(console):
                return None
            if time.monotonic() >= deadline:
                return wait_s
            await asyncio.sleep(ASK_EVERY_S * 2)

    async def _ask(
        self,
        console: Console,
        action: str,
        target: str,
        params: dict[str, Any],
        deliver: Deliver | None = None,
        *,
        read: bool = False,
    ) -> FleetRequest:
        """Write the request, announce it, and wait for its answer (see the module). A
        `read` (a fleet operation that changes nothing) is said as one, and its row is
        deleted once it is over: a following console's screens read at every refresh."""
        store = console.store
        request_id, digest = _write(console, action, target, params)
        announced = False  # announced first thing in the loop, where Ctrl-C is heard
        deadline = time.monotonic() + self.wait_s
        progress = _Followed(deliver)
        try:
            while True:
                request = store.request(request_id)
                if request is None:
                    raise Failed(f"The request {request_id} is no longer in the store.")
                if request.state in ANSWERED:
                    progress.delivered(request)  # the last steps, reported with the answer
                    return request
                if request.state == PENDING and not announced:  # or the holder is starting
                    announced = await self._announce(store, request_id, digest)
                if request.state in UNDER_WAY and progress.delivered(request):
                    store.ask_cancel(request_id)  # the asker cancelled what it follows
                if request.state == PENDING:
                    if not self.lock.held_by_another() and store.withdraw_request(request_id):
                        if await self.take_over(console):
                            raise TookTheFleet
                        if read:  # the one withdrawn
                            store.forget_request(request_id)
                        request_id, digest = _write(console, action, target, params)
                        announced = await self._announce(store, request_id, digest)
                    elif time.monotonic() >= deadline and store.withdraw_request(request_id):
                        raise Failed(self._not_taken(request, read))
                elif request.state in UNDER_WAY and not request.taker_alive():
                    raise _taker_died(request, read)
                await asyncio.sleep(ASK_EVERY_S)
        except asyncio.CancelledError:
            # stopped waiting (Ctrl-C): a change nobody took yet is not made at all; one
            # taken is cancelled if the holder has not carried it out yet, and said
            withdrawn = False
            with contextlib.suppress(Exception):
                withdrawn = store.withdraw_request(request_id)
            if withdrawn or read:  # a read changes nothing: nothing to say of it
                raise
            raise await self._after_cancel(console, request_id) from None
        finally:
            if read:
                with contextlib.suppress(Exception):  # a busy store: pruned in a day
                    store.forget_request(request_id)

    def _not_taken(self, request: FleetRequest, read: bool) -> str:
        """What a request no holder took within the bound says."""
        holder, within = self.lock.holder(), f"within {self.wait_s:g} s"
        if read:
            name = request.action.rpartition(".")[2].replace("_", " ")
            of = f"{name} of {request.target}" if request.target != FLEET else name
            return f"{holder} holds the data center but did not answer the read ({of}) {within}."
        return (
            f"{holder} holds the data center but did not take the change {within}; nothing "
            "was changed."
        )

    async def _announce(self, store: Store, request_id: int, digest: str) -> bool:
        """Announce a request written here to the holder, with the digest of what it asks;
        whether the holder heard. Its refusal (the request is no longer what was asked,
        or no longer names this user) is raised, the request withdrawn if still pending."""
        said = await announce(self.db, request_id, digest)
        refused = refusal(said)
        if refused is not None:
            with contextlib.suppress(Exception):
                store.withdraw_request(request_id)
            raise Refused(refused)
        return bool(said)

    async def _after_cancel(self, console: Console, request_id: int) -> Exception:
        """What became of a taken request whose asker pressed Ctrl-C: one sentence."""
        store = console.store
        store.ask_cancel(request_id)
        deadline = time.monotonic() + CANCEL_WAIT_S
        request = store.request(request_id)
        while request is not None and request.state in UNDER_WAY:
            if time.monotonic() >= deadline or not request.taker_alive():
                break
            await asyncio.sleep(ASK_EVERY_S)
            request = store.request(request_id)
        holder = self.lock.holder()
        if request is None:
            return Failed(f"The request {request_id} is no longer in the store.")
        what = _what(request)
        if request.state == CANCELLED:
            return Failed(f"Cancelled: {holder} had not carried out {what}; nothing was changed.")
        if request.state == DONE:
            return Failed(f"Too late to cancel: {holder} had already carried out {what}.")
        if request.state in (REFUSED, FAILED):
            return (Refused if request.state == REFUSED else Failed)(request.error)
        if not request.taker_alive():
            return _taker_died(request)
        return Failed(
            f"{holder} had begun {what} and goes on with it; `vdctui task list` and "
            "`vdctui audit list` say how it ends."
        )


def _write(console: Console, action: str, target: str, params: dict[str, Any]) -> tuple[int, str]:
    """A request written in the store as this console's identity: its id, and the digest
    of what it asks (announced to the holder, which carries out nothing else)."""
    who = console.identity
    request_id = console.store.ask(action, target, params, who.actor, who.role)
    return request_id, fingerprint(request_id, action, target, params, who.actor, who.role)


def _what(request: FleetRequest) -> str:
    action = Action.named(request.action)
    name = action.what if action else request.action.rpartition(".")[2].replace("_", " ")
    return f"{name[:1].lower()}{name[1:]} ({request.target})"


def _taker_died(request: FleetRequest, read: bool = False) -> Failed:
    if read:
        return Failed(
            f"The process that took the read (pid {request.taker_pid}) stopped before it answered."
        )
    return Failed(
        f"The process that took the change (pid {request.taker_pid}) stopped before it "
        "answered; `vdctui task list` and `vdctui audit list` say what was done."
    )


def _answer(request: FleetRequest) -> dict[str, Any]:
    """An answered request's answer, or its refusal or failure raised."""
    if request.state == REFUSED:  # by the role, as the asker's own door would have
        raise (NotAllowed if request.answer.get(BY_ROLE) is True else Refused)(request.error)
    if request.state in (FAILED, CANCELLED):
        raise Failed(request.error)
    return request.answer


class _Followed:
    """The progress a request under way reports, delivered to the asker's callbacks."""

    def __init__(self, deliver: Deliver | None) -> None:
        self.deliver = deliver
        self.seen = 0  # the last report delivered
        self.values: dict[str, Any] = {}  # the last value each callback got: cancelling
        # one (an Evacuation's cancel()) cancels the request
        self.cancel_asked = False

    def delivered(self, request: FleetRequest) -> bool:
        """Deliver what is new; whether the asker has just cancelled what it follows."""
        reported = request.answer.get("progress")
        if self.deliver is not None and isinstance(reported, list):
            for number, parameter, value in reported:
                if number > self.seen:
                    self.seen = number
                    self.values[parameter] = self.deliver(parameter, value)
        cancelled = any(getattr(v, "cancelled", False) is True for v in self.values.values())
        if self.cancel_asked or not cancelled:
            return False
        self.cancel_asked = True
        return True
