"""The embedded fleet, shared by every process that opens the same --db (issue 10).

Design: the process that holds the fleet's lock runs the fleet (its clock, its
migrations) and serves it; every other process is a console (or a command) that
reads the store the holder syncs and hands its changes to the holder through the
store:

- `SharedFleet` is attached to a console whose fleet another process holds. A change
  that needs the fleet (`requests.CARRIED`: VM lifecycle, resize, create, migrate)
  is role-checked here first (a refusal is audited here and asks nothing), then
  written as a request (action, target, parameters, actor and role); the holder takes
  it and carries it out through the same ops door as the asker. The asker hears
  its progress and its answer from the holder itself, on the connection it announced
  the request on, and says its cancel (Ctrl-C) there; the row is the request's record,
  which anyone in the group can write, so the asker never takes its answer from it. A
  migration's progress is then followed in its task row, like any console does. A
  fleet operation (vdctui.ops.handover: a change of several steps, or a read of a
  host, like a VM's XML) travels the same way, whole. A change that writes
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
  carries it out in its own asyncio task, so a slow one holds no other one up; it says
  the progress a fleet operation reports (vdctui.ops.handover) and the answer on the
  request's connection, and stops what its asker cancels there (and nothing else).

Why not the fleet file as the truth, reloaded by each process under a write
transaction? The emulated fleet is a simulation that lives in one process's memory
on a clock: a migration's pre-copy rounds advance on the holder's clock loop, and
saving and reloading a 100,000-VM fleet takes seconds. Serving it from the holder
keeps one fleet with one clock, makes a change cost a write in the store and a round
trip on a socket (milliseconds), and keeps every guarantee of the ops door where it is.
Who asks is what the OS says: the holder takes a request only when a process of the
OS user it names announces it on the holder's Unix socket (vdctui.fleet_socket,
SO_PEERCRED), with the digest of what it asked; a row written in the db by other means,
or rewritten there since, is refused and audited. The role is checked again from the
db, the one the request carries can only lower it. A read (a fleet operation that
changes nothing) leaves no row once answered: a following console's screens read at
every refresh; the holder deletes the rows of reads whose askers died before it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from vdctui.backend import BackendError, FleetLock, attach_embedded
from vdctui.fleet_socket import ANSWER_NOT_PENDING, ANSWER_TAKEN, Asking, refusal
from vdctui.ops import Console, Failed, Identity, Refused
from vdctui.ops.actions import Action
from vdctui.ops.errors import NotAllowed
from vdctui.ops.handover import FLEET, TookTheFleet, is_read
from vdctui.ops.migration import ProgressListener
from vdctui.ops.requests import CARRIED, result_of
from vdctui.store.requests import (
    BY_ROLE,
    CANCELLED,
    DONE,
    FAILED,
    PENDING,
    REFUSED,
    UNDER_WAY,
    fingerprint,
)
from vdctui.store.store import Store

T = TypeVar("T")

ASK_EVERY_S = 0.05  # how often an asker no holder hears yet looks again
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
            answer = await self._ask(console, action.id, target, params)
        except TookTheFleet:
            return await console.change(action, target, params, work, on_progress=on_progress)
        return result_of(console, action, target, params, answer, on_progress)  # type: ignore[no-any-return]

    async def hand_over_operation(
        self, console: Console, name: str, target: str, params: dict[str, Any], deliver: Deliver
    ) -> Any:
        """A fleet operation (vdctui.ops.handover) while another process holds the fleet:
        carried out there, its progress delivered here; its encoded result. Raises
        TookTheFleet when the holder was gone and this process took the fleet over."""
        answer = await self._ask(console, name, target, params, deliver, read=is_read(name))
        return answer.get("result")

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
    ) -> dict[str, Any]:
        """Write the request, announce it on the holder's socket, and hear its progress
        and answer there (see the module): the answer, or its refusal or failure raised.
        A `read` (a fleet operation that changes nothing) is said as one, and its row is
        deleted once it is over: a following console's screens read at every refresh."""
        store = console.store
        mine = _Asked(*_write(console, action, target, params))
        try:
            asking = await self._taken(console, mine, action, target, params, read)
            followed = _Followed(deliver, asking)
            while (said := await asking.message()) is not None:
                if "state" in said:  # the answer, with the last steps
                    followed.delivered(_object(said.get("answer")).get("progress"))
                    return _answer(said)
                followed.delivered(said.get("progress"))
            raise _taker_died(asking.holder_pid, read)
        except asyncio.CancelledError:
            # stopped waiting (Ctrl-C): a change nobody took yet is not made at all; one
            # taken is cancelled if the holder has not carried it out yet, and said
            withdrawn = False
            with contextlib.suppress(Exception):
                withdrawn = store.withdraw_request(mine.id)
            if withdrawn or read or mine.asking is None:  # a read changes nothing
                raise
            raise await self._after_cancel(mine.asking, action, target) from None
        finally:
            if mine.asking is not None:
                await mine.asking.close()
            if read:
                with contextlib.suppress(Exception):  # a busy store: the holder deletes it
                    store.forget_request(mine.id)

    async def _taken(
        self,
        console: Console,
        mine: _Asked,
        action: str,
        target: str,
        params: dict[str, Any],
        read: bool,
    ) -> Asking:
        """Announce the request until the holder takes it: the connection where it then
        says what becomes of it. Meanwhile, a holder gone (the lock free) leaves the
        request to this process (TookTheFleet); one that takes nothing within the bound
        is said; a refusal is raised."""
        store = console.store
        deadline: float | None = time.monotonic() + self.wait_s
        while True:
            if mine.asking is None:
                mine.asking = await Asking.open(self.db)
            if mine.asking is not None:
                said = await _heard(mine.asking, mine, deadline)
                if said == ANSWER_TAKEN:
                    return mine.asking
                if said is None:  # no word within the bound
                    if store.withdraw_request(mine.id):
                        raise Failed(self._not_taken(action, target, read))
                    deadline = None  # taken meanwhile: its answer comes on the connection
                    continue
                refused = refusal(said)
                if refused is not None:
                    with contextlib.suppress(Exception):
                        store.withdraw_request(mine.id)
                    raise Refused(refused)
                if said == ANSWER_NOT_PENDING:
                    raise self._not_pending(store, mine.id, read)
                await mine.asking.close()  # closed without a word: stopped, or starting
                mine.asking = None
            request = store.request(mine.id)
            if request is None:
                raise Failed(f"The request {mine.id} is no longer in the store.")
            if request.state != PENDING:
                raise self._not_pending(store, mine.id, read)
            if not self.lock.held_by_another() and store.withdraw_request(mine.id):
                if await self.take_over(console):
                    raise TookTheFleet
                if read:  # the one withdrawn
                    store.forget_request(mine.id)
                mine.id, mine.digest = _write(console, action, target, params)
                continue
            late = deadline is not None and time.monotonic() >= deadline
            if late and store.withdraw_request(mine.id):
                raise Failed(self._not_taken(action, target, read))
            await asyncio.sleep(ASK_EVERY_S)

    def _not_taken(self, action: str, target: str, read: bool) -> str:
        """What a request no holder took within the bound says."""
        holder, within = self.lock.holder(), f"within {self.wait_s:g} s"
        if read:
            name = action.rpartition(".")[2].replace("_", " ")
            of = f"{name} of {target}" if target != FLEET else name
            return f"{holder} holds the data center but did not answer the read ({of}) {within}."
        return (
            f"{holder} holds the data center but did not take the change {within}; nothing "
            "was changed."
        )

    def _not_pending(self, store: Store, request_id: int, read: bool) -> Failed:
        """A request of this process that was no longer pending when the holder heard it
        (its taker died since; or someone changed its row in the store)."""
        request = store.request(request_id)
        if request is not None and request.state in UNDER_WAY and not request.taker_alive():
            return _taker_died(request.taker_pid, read)
        return Failed(
            f"Request {request_id} was no longer pending when {self.lock.holder()} heard it "
            "(its row was changed in the store); it was not carried out for this command."
        )

    async def _after_cancel(self, asking: Asking, action: str, target: str) -> Exception:
        """What became of a taken request whose asker pressed Ctrl-C, as the holder says
        on the request's connection: one sentence."""
        asking.cancel()
        holder, what = self.lock.holder(), _what(action, target)
        said: dict[str, Any] | None = None
        try:
            async with asyncio.timeout(CANCEL_WAIT_S):
                first = await asking.heard()
                if first != ANSWER_TAKEN:
                    refused = refusal(first)
                    return Refused(refused) if refused else _taker_died(asking.holder_pid)
                while (said := await asking.message()) is not None and "state" not in said:
                    pass
        except TimeoutError:
            return Failed(
                f"{holder} had begun {what} and goes on with it; `vdctui task list` and "
                "`vdctui audit list` say how it ends."
            )
        if said is None:
            return _taker_died(asking.holder_pid)
        state, error = said.get("state"), str(said.get("error") or "")
        if state == CANCELLED:
            return Failed(f"Cancelled: {holder} had not carried out {what}; nothing was changed.")
        if state == DONE:
            return Failed(f"Too late to cancel: {holder} had already carried out {what}.")
        return (Refused if state == REFUSED else Failed)(error)


class _Asked:
    """The request this process asked (written again if a holder gone left it here),
    and its connection to the holder, once open."""

    def __init__(self, request_id: int, digest: str) -> None:
        self.id = request_id
        self.digest = digest
        self.asking: Asking | None = None


async def _heard(asking: Asking, mine: _Asked, deadline: float | None) -> str | None:
    """The holder's answer to the request's announcement; None when it said nothing by
    `deadline` (monotonic; None: no bound)."""
    try:
        async with asyncio.timeout(None if deadline is None else deadline - time.monotonic()):
            return await asking.announce(mine.id, mine.digest)
    except TimeoutError:
        return None


def _write(console: Console, action: str, target: str, params: dict[str, Any]) -> tuple[int, str]:
    """A request written in the store as this console's identity: its id, and the digest
    of what it asks (announced to the holder, which carries out nothing else)."""
    who = console.identity
    request_id = console.store.ask(action, target, params, who.actor, who.role)
    return request_id, fingerprint(request_id, action, target, params, who.actor, who.role)


def _what(action: str, target: str) -> str:
    known = Action.named(action)
    name = known.what if known else action.rpartition(".")[2].replace("_", " ")
    return f"{name[:1].lower()}{name[1:]} ({target})"


def _taker_died(pid: int | None, read: bool = False) -> Failed:
    if read:
        return Failed(f"The process that took the read (pid {pid}) stopped before it answered.")
    return Failed(
        f"The process that took the change (pid {pid}) stopped before it answered; "
        "`vdctui task list` and `vdctui audit list` say what was done."
    )


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _answer(said: dict[str, Any]) -> dict[str, Any]:
    """The holder's answer, or its refusal or failure raised."""
    state, error, answer = (
        said.get("state"),
        str(said.get("error") or ""),
        _object(said.get("answer")),
    )
    if state == REFUSED:  # by the role, as the asker's own door would have
        raise (NotAllowed if answer.get(BY_ROLE) is True else Refused)(error)
    if state in (FAILED, CANCELLED):
        raise Failed(error)
    if state != DONE:
        raise Failed(f"The process that holds the data center answered {state!r}, not an answer.")
    return answer


class _Followed:
    """The progress a request under way reports, delivered to the asker's callbacks. A
    value so delivered that the asker cancels (an Evacuation's or a Stepping's
    `cancel()`, called by a Ctrl-C handler) cancels the request at once, on its
    connection."""

    def __init__(self, deliver: Deliver | None, asking: Asking) -> None:
        self.deliver = deliver
        self.asking = asking
        self.seen = 0  # the last report delivered
        self.cancel_asked = False

    def delivered(self, reported: Any) -> None:
        """Deliver what is new of the reports the holder said."""
        if self.deliver is None or not isinstance(reported, list):
            return
        for number, parameter, value in reported:
            if number > self.seen:
                self.seen = number
                self._watch(self.deliver(parameter, value))

    def _watch(self, value: Any) -> None:
        if getattr(value, "cancelled", False) is True:
            self.cancel()
        stop = getattr(value, "cancel", None)
        if not callable(stop) or getattr(stop, "_asks_the_holder", False):
            return

        def cancel() -> None:
            stop()
            self.cancel()

        cancel._asks_the_holder = True  # type: ignore[attr-defined]
        with contextlib.suppress(AttributeError, TypeError):  # frozen: its `cancelled` says
            value.cancel = cancel

    def cancel(self) -> None:
        if not self.cancel_asked:
            self.cancel_asked = True
            self.asking.cancel()
