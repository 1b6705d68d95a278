"""The holder's side of the shared embedded fleet (issue 10; the askers' side is
vdctui.fleet_sharing): `RequestServer` runs in the process that holds the fleet, beside
its clock. It takes each request its asker announces on the socket (vdctui.fleet_socket;
in a write transaction: once) and carries it out in its own asyncio task, so a slow one
holds no other one up. It says the progress a fleet operation reports
(vdctui.ops.handover) and the answer on the connection the request was announced on,
and keeps the answer in the request's row (its durable record; a read's row is deleted);
it stops what an asker cancels on that connection, refuses what nobody announced, and
deletes the rows of reads whose askers are gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
from collections.abc import Callable
from dataclasses import is_dataclass
from pathlib import Path
from typing import Any

from vdctui.fleet_socket import (
    ANSWER_NOT_PENDING,
    ANSWER_TAKEN,
    UNANNOUNCED_S,
    Reply,
    RequestSocket,
)
from vdctui.model import Role
from vdctui.ops import Console, Failed, Refused
from vdctui.ops.errors import NotAllowed
from vdctui.ops.handover import reads
from vdctui.ops.requests import perform
from vdctui.store.requests import (
    BY_ROLE,
    CANCELLED,
    DONE,
    FAILED,
    PENDING,
    REFUSED,
    FleetRequest,
)
from wire.stopping import cancelled

SERVE_EVERY_S = 0.05  # how often the holder looks for requests
ROUNDS_WATCHED = 20  # rounds a request stays unannounced past UNANNOUNCED_S before refused
REPORT_EVERY_S = 0.25  # how often the holder writes an operation's progress
REPORTS_KEPT = 200  # an operation's last reports said with its answer (and kept in its row)
SWEEP_EVERY_S = 5.0  # how often the holder deletes the rows of reads whose askers are gone


class _Reports:
    """An operation's progress as the holder says it to the asker on the request's
    connection, at most every REPORT_EVERY_S: the reports numbered; a whole state (a
    dataclass, like an Evacuation) replaces its callback's previous one not yet said, a
    message (a step's line) is kept; the last REPORTS_KEPT go with the answer too. A value
    with `cancel()` (an Evacuation) is what the asker's cancel stops."""

    def __init__(self, reply: Reply) -> None:
        self.reply = reply
        self.reports: list[tuple[int, str, Any]] = []
        self.cancel: Callable[[], None] | None = None
        self.cancel_asked = False  # by the asker, on its connection
        self._due: asyncio.TimerHandle | None = None
        self._said_at = 0.0
        self._said = 0  # the last report said
        self._number = 0
        self._unsaid: dict[str, int] = {}  # callback -> index of its state not said

    def __call__(self, parameter: str, value: Any) -> None:
        from vdctui.ops.handover import encode

        if callable(getattr(value, "cancel", None)):
            self.cancel = value.cancel
            if self.cancel_asked:  # asked before there was anything to stop
                asyncio.get_running_loop().call_soon(self.stop)
        self._number += 1
        report = (self._number, parameter, encode(value))
        index = self._unsaid.get(parameter)
        if index is not None and is_dataclass(value):
            self.reports[index] = report
        else:
            self.reports.append(report)
            if is_dataclass(value):
                self._unsaid[parameter] = len(self.reports) - 1
        if self._due is None:
            wait = max(0.0, self._said_at + REPORT_EVERY_S - time.monotonic())
            self._due = asyncio.get_running_loop().call_later(wait, self.say)

    def say(self) -> None:
        self._due = None
        self._said_at = time.monotonic()
        self._unsaid.clear()
        self.reports.sort()
        new = [r for r in self.reports if r[0] > self._said]
        if new:
            self._said = new[-1][0]
            self.reply.say({"progress": new})
        del self.reports[:-REPORTS_KEPT]

    def stop(self) -> None:
        """The asker cancelled: stop what can be stopped (now, or once it reports)."""
        self.cancel_asked = True
        if self.cancel is not None:
            cancel, self.cancel = self.cancel, None
            cancel()

    def close(self) -> dict[str, Any]:
        """No more reports: the last ones, for the answer (none: nothing)."""
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
        self._reports: dict[int, _Reports] = {}  # the requests taken, till answered
        self._socket = RequestSocket(Path(console.store.path), self._announced)
        self._watched = Unannounced()
        self._swept = 0.0  # when the rows of reads whose askers are gone were last deleted
        self.socket_error = ""

    def start(self) -> None:
        if self.console.store.writable:
            self._loop = asyncio.get_running_loop().create_task(self._serve())

    async def stop(self) -> None:
        """Take no more requests; let the ones under way answer."""
        await cancelled(self._loop)
        self._loop = None
        await self._socket.stop_listening()
        if self._running:
            await asyncio.gather(*self._running, return_exceptions=True)
        await self._socket.close()

    async def _serve(self) -> None:
        """Open the socket where askers announce their requests; then, until stopped,
        refuse the requests nobody announced, and delete those of reads whose askers are
        gone."""
        try:
            await self._socket.open()
        except OSError as exc:  # no request can be taken (each is refused, unannounced)
            self.socket_error = str(exc)
        while True:
            with contextlib.suppress(Exception):  # a busy or failing store: look again
                self._forget_reads_of_gone_askers()
                self._refuse_unannounced()
            await asyncio.sleep(SERVE_EVERY_S)

    async def _announced(self, request_id: int, digest: str, user: str, reply: Reply) -> str:
        """A process of OS user `user` announced request `request_id`, asked as `digest`
        says: take it if it names `user` as its asker and holds just what was asked (in
        the transaction that takes it); what it becomes is said on `reply`. Else refuse
        the announcement, audited as `user`'s: a request of `user`'s that was rewritten
        since it was asked is refused with it; another user's is left pending for its
        own asker."""
        store = self.console.store

        def asked_so(request: FleetRequest) -> bool:
            return request.actor == user and request.fingerprint() == digest

        taken = store.take_request(request_id, fits=asked_so)
        if taken is not None:
            self._reports[taken.id] = _Reports(reply)
            reply.on_cancel = functools.partial(self._cancelled, taken.id)
            task = asyncio.get_running_loop().create_task(self._carry_out(taken))
            self._running.add(task)
            task.add_done_callback(self._running.discard)
            return ANSWER_TAKEN
        request = store.request(request_id)
        if request is None or request.state != PENDING:
            return ANSWER_NOT_PENDING
        if request.actor != user:
            why = (
                f"Request {request_id} names {request.actor} as its asker, but {user} sent "
                "it; refused."
            )
            self._audit_refusal(request, user, why)
            return why
        why = (
            f"Request {request_id} is not what {user} asked (it was changed in the store "
            "after it was written); refused."
        )
        self._refuse(request, user, why)
        return why

    def _cancelled(self, request_id: int) -> None:
        """The asker of `request_id` cancelled it, on its own connection: stop what can be
        stopped; one not begun yet is not carried out. The row says so, as a record."""
        with contextlib.suppress(Exception):  # a busy store: the answer will say it
            self.console.store.record_cancel(request_id)
        reports = self._reports.get(request_id)
        if reports is not None:
            reports.stop()

    def _forget_reads_of_gone_askers(self) -> None:
        """Delete the rows of reads whose askers are gone (killed before their answer):
        a read's row is only the way of its answer, and nobody waits for it."""
        if time.monotonic() - self._swept >= SWEEP_EVERY_S:
            self._swept = time.monotonic()
            self.console.store.forget_reads_of_gone_askers(reads())

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
        """Refuse a pending request (audited as `actor`'s), once."""
        if self.console.store.refuse_pending(request.id, why):
            self._audit_refusal(request, actor, why)

    def _audit_refusal(self, request: FleetRequest, actor: str, why: str) -> None:
        """The audit record of `actor`'s refused attempt at `request`."""
        store = self.console.store
        role = store.operator_role(actor) or Role.VIEWER
        store.append_audit(
            actor=actor,
            role=role,
            action=str(request.action)[:80],
            target=str(request.target)[:200],
            params=request.params,
            result="refused",
            error=why,
        )

    async def _carry_out(self, request: FleetRequest) -> None:
        reports = self._reports[request.id]
        try:
            if reports.cancel_asked:  # Ctrl-C before it was begun
                why = "Its asker cancelled it before it was carried out."
                self._answer(request, reports, CANCELLED, error=why)
                return
            answer = await perform(self.console, request, reports)
        except Refused as exc:
            self._answer(
                request, reports, REFUSED, {BY_ROLE: isinstance(exc, NotAllowed)}, str(exc)
            )
        except Failed as exc:
            self._answer(request, reports, FAILED, error=str(exc))
        except Exception as exc:  # noqa: BLE001 - the asker is told; the holder goes on
            why = f"the process that holds the data center could not carry it out: {exc!r}"
            self._answer(request, reports, FAILED, error=why)
        else:
            self._answer(request, reports, DONE, answer)
        finally:
            reports.close()
            self._reports.pop(request.id, None)

    def _answer(
        self,
        request: FleetRequest,
        reports: _Reports,
        state: str,
        answer: dict[str, Any] | None = None,
        error: str = "",
    ) -> None:
        """Say the answer to the asker on its connection, and keep it in the request's
        row, the durable record (a read's row, only its answer's way, is deleted)."""
        said = {**(answer or {}), **reports.close()}
        task_id = said.get("task") if state == DONE else None
        try:
            if request.action in reads():
                self.console.store.forget_request(request.id)
            else:
                self.console.store.answer_request(
                    request.id, state, answer=said, error=error, task_id=task_id
                )
        finally:
            reports.reply.end({"state": state, "answer": said, "error": error})
