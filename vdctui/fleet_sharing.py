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
- `RequestServer` runs in the holder beside its clock: it takes each request its asker
  announces on the socket (in a write transaction: once) and carries it out in its own
  asyncio task, so a slow one holds no other one up; it writes the progress a fleet
  operation reports into the row (vdctui.ops.handover), and stops what an asker cancels.

Why not the fleet file as the truth, reloaded by each process under a write
transaction? The emulated fleet is a simulation that lives in one process's memory
on a clock: a migration's pre-copy rounds advance on the holder's clock loop, and
saving and reloading a 100,000-VM fleet takes seconds. Serving it from the holder
keeps one fleet with one clock, makes a change cost a round trip through the store
(tens of milliseconds), and keeps every guarantee of the ops door where it is.
Who asks is what the OS says: the holder takes a request only when a process of the
OS user it names announces it on the holder's Unix socket (vdctui.fleet_socket,
SO_PEERCRED); a row written in the db by other means is refused and audited. The role
is checked again from the db, the one the request carries can only lower it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import is_dataclass
from pathlib import Path
from typing import Any, TypeVar

from vdctui.backend import BackendError, FleetLock, attach_embedded
from vdctui.fleet_socket import UNANNOUNCED_S, RequestSocket, announce
from vdctui.model import Role
from vdctui.ops import Console, Failed, Identity, Refused
from vdctui.ops.actions import Action
from vdctui.ops.handover import TookTheFleet
from vdctui.ops.migration import ProgressListener
from vdctui.ops.requests import CARRIED, perform, result_of
from vdctui.store.requests import (
    ANSWERED,
    CANCELLED,
    CANCELLING,
    DONE,
    FAILED,
    PENDING,
    REFUSED,
    UNDER_WAY,
    FleetRequest,
)

T = TypeVar("T")

ASK_EVERY_S = 0.05  # how often the asker reads its request
SERVE_EVERY_S = 0.05  # how often the holder looks for requests
ROUNDS_WATCHED = 20  # rounds a request stays unannounced past UNANNOUNCED_S before refused
REPORT_EVERY_S = 0.25  # how often the holder writes an operation's progress
REPORTS_KEPT = 200  # an operation's last reports kept in its request row
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
        request = await self._ask(console, name, target, params, deliver)
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
    ) -> FleetRequest:
        store, who = console.store, console.identity
        request_id = store.ask(action, target, params, who.actor, who.role)
        announced = await announce(self.db, request_id)
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
                if request.state == PENDING and not announced:  # the holder is starting
                    announced = await announce(self.db, request_id)
                if request.state in UNDER_WAY and progress.delivered(request):
                    store.ask_cancel(request_id)  # the asker cancelled what it follows
                if request.state == PENDING:
                    if not self.lock.held_by_another() and store.withdraw_request(request_id):
                        if await self.take_over(console):
                            raise TookTheFleet
                        request_id = store.ask(action, target, params, who.actor, who.role)
                        announced = await announce(self.db, request_id)
                    elif time.monotonic() >= deadline and store.withdraw_request(request_id):
                        raise Failed(
                            f"{self.lock.holder()} holds the data center but did not take "
                            f"the change within {self.wait_s:g} s; nothing was changed."
                        )
                elif request.state in UNDER_WAY and not request.taker_alive():
                    raise _taker_died(request)
                await asyncio.sleep(ASK_EVERY_S)
        except asyncio.CancelledError:
            # stopped waiting (Ctrl-C): a change nobody took yet is not made at all; one
            # taken is cancelled if the holder has not carried it out yet, and said
            withdrawn = False
            with contextlib.suppress(Exception):
                withdrawn = store.withdraw_request(request_id)
            if withdrawn:
                raise
            raise await self._after_cancel(console, request_id) from None

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


def _what(request: FleetRequest) -> str:
    action = Action.named(request.action)
    name = action.what if action else request.action.rpartition(".")[2].replace("_", " ")
    return f"{name[:1].lower()}{name[1:]} ({request.target})"


def _taker_died(request: FleetRequest) -> Failed:
    return Failed(
        f"The process that took the change (pid {request.taker_pid}) stopped before it "
        "answered; `vdctui task list` and `vdctui audit list` say what was done."
    )


def _answer(request: FleetRequest) -> dict[str, Any]:
    """An answered request's answer, or its refusal or failure raised."""
    if request.state == REFUSED:
        raise Refused(request.error)
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


class _Reports:
    """An operation's progress as the holder writes it into its request row, at most
    every REPORT_EVERY_S: the reports numbered, the last REPORTS_KEPT; a whole state (a
    dataclass, like an Evacuation) replaces its callback's previous one not yet written,
    a message (a step's line) is kept. A value with `cancel()` (an Evacuation) is what
    cancelling the request stops."""

    def __init__(self, console: Console, request_id: int) -> None:
        self.store = console.store
        self.request_id = request_id
        self.reports: list[tuple[int, str, Any]] = []
        self.cancel: Callable[[], None] | None = None
        self._due: asyncio.TimerHandle | None = None
        self._written = 0.0
        self._number = 0
        self._unwritten: dict[str, int] = {}  # callback -> index of its state not written

    def __call__(self, parameter: str, value: Any) -> None:
        from vdctui.ops.handover import encode

        if callable(getattr(value, "cancel", None)):
            self.cancel = value.cancel
        self._number += 1
        report = (self._number, parameter, encode(value))
        index = self._unwritten.get(parameter)
        if index is not None and is_dataclass(value):
            self.reports[index] = report
        else:
            self.reports.append(report)
            if is_dataclass(value):
                self._unwritten[parameter] = len(self.reports) - 1
        if self._due is None:
            wait = max(0.0, self._written + REPORT_EVERY_S - time.monotonic())
            self._due = asyncio.get_running_loop().call_later(wait, self.write)

    def write(self) -> None:
        self._due = None
        self._written = time.monotonic()
        self._unwritten.clear()
        self.reports.sort()
        del self.reports[:-REPORTS_KEPT]
        with contextlib.suppress(Exception):  # a busy store: the next report writes it
            self.store.report_progress(self.request_id, self.reports)

    def close(self) -> dict[str, Any]:
        """No more writes: the reports, for the answer (none: nothing), so the last ones
        are not lost."""
        if self._due is not None:
            self._due.cancel()
            self._due = None
        self.reports.sort()
        del self.reports[:-REPORTS_KEPT]
        return {"progress": self.reports} if self.reports else {}


class Unannounced:
    """The requests left unannounced past UNANNOUNCED_S that the holder has watched for
    ROUNDS_WATCHED of its rounds, its event loop (so its socket) running between two: a
    holder whose loop was held up (a busy store, a long sync on a loaded machine) hears
    the announcements queued meanwhile before it refuses anything as never announced."""

    def __init__(self) -> None:
        self.rounds: dict[int, int] = {}  # request id -> rounds it was seen old enough

    def overdue(self, old_enough: list[int]) -> set[int]:
        self.rounds = {i: self.rounds.get(i, 0) + 1 for i in old_enough}
        return {i for i, seen in self.rounds.items() if seen > ROUNDS_WATCHED}


class RequestServer:
    """The holder's side: takes the other processes' requests and carries them out."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self._loop: asyncio.Task[None] | None = None
        self._running: set[asyncio.Task[None]] = set()
        self._reports: dict[int, _Reports] = {}  # the requests under way
        self._socket = RequestSocket(Path(console.store.path), self._announced)
        self._watched = Unannounced()
        self.socket_error = ""

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
        await self._socket.close()
        if self._running:
            await asyncio.gather(*self._running, return_exceptions=True)

    async def _serve(self) -> None:
        """Open the socket where askers announce their requests; then, until stopped,
        stop what askers cancel and refuse the requests nobody announced."""
        try:
            await self._socket.open()
        except OSError as exc:  # no request can be taken (each is refused, unannounced)
            self.socket_error = str(exc)
        while True:
            with contextlib.suppress(Exception):  # a busy or failing store: look again
                self._stop_cancelled()
                self._refuse_unannounced()
            await asyncio.sleep(SERVE_EVERY_S)

    async def _announced(self, request_id: int, user: str) -> str:
        """A process of OS user `user` announced request `request_id` on the socket: take
        it if it names `user` as its asker, else refuse it (audited)."""
        store = self.console.store
        request = store.request(request_id)
        if request is None or request.state != PENDING:
            return "not pending"
        if request.actor != user:
            why = (
                f"Request {request_id} names {request.actor} as its asker, but {user} sent "
                "it; refused."
            )
            self._refuse(request, user, why)
            return why
        taken = store.take_request(request_id)
        if taken is None:
            return "not pending"
        task = asyncio.get_running_loop().create_task(self._carry_out(taken))
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        return "taken"

    def _refuse_unannounced(self) -> None:
        old_enough = self.console.store.pending_since(time.time() - UNANNOUNCED_S)
        overdue = self._watched.overdue([request.id for request in old_enough])
        for request in (r for r in old_enough if r.id in overdue):
            why = (
                f"Request {request.id} names {request.actor} as its asker, but no process "
                f"of {request.actor}'s announced it to the process that holds the data "
                "center; refused."
            )
            self._refuse(request, "unknown", why)

    def _refuse(self, request: FleetRequest, actor: str, why: str) -> None:
        store = self.console.store
        if store.refuse_pending(request.id, why):
            role = store.operator_role(actor) or Role.VIEWER
            store.append_audit(
                actor=actor,
                role=role,
                action=request.action[:80],
                target=request.target[:200],
                params=request.params,
                result="refused",
                error=why,
            )

    def _stop_cancelled(self) -> None:
        """Stop what the askers cancelled and can be stopped (an evacuation)."""
        for request_id in self.console.store.cancelling(list(self._reports)):
            reports = self._reports[request_id]
            if reports.cancel is not None:
                reports.cancel()
                reports.cancel = None

    async def _carry_out(self, request: FleetRequest) -> None:
        store = self.console.store
        now = store.request(request.id)
        if now is not None and now.state == CANCELLING:  # Ctrl-C before it was begun
            why = "Its asker cancelled it before it was carried out."
            store.answer_request(request.id, CANCELLED, error=why)
            return
        reports = self._reports[request.id] = _Reports(self.console, request.id)
        try:
            answer = await perform(self.console, request, reports)
        except Refused as exc:
            store.answer_request(request.id, REFUSED, answer=reports.close(), error=str(exc))
        except Failed as exc:
            store.answer_request(request.id, FAILED, answer=reports.close(), error=str(exc))
        except Exception as exc:  # noqa: BLE001 - the asker is told; the holder goes on
            why = f"the process that holds the data center could not carry it out: {exc!r}"
            store.answer_request(request.id, FAILED, answer=reports.close(), error=why)
        else:
            answer = {**answer, **reports.close()}
            store.answer_request(request.id, DONE, answer=answer, task_id=answer.get("task"))
        finally:
            reports.close()
            self._reports.pop(request.id, None)
