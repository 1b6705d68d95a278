"""The holder's side of the shared embedded fleet (issue 10; the askers' side is
vdctui.fleet_sharing): `RequestServer` runs in the process that holds the fleet, beside
its clock. It takes each request its asker announces on the socket (vdctui.fleet_socket;
in a write transaction: once) and carries it out in its own asyncio task, so a slow one
holds no other one up; it writes the progress a fleet operation reports into the row
(vdctui.ops.handover), stops what an asker cancels, and refuses what nobody announced.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import is_dataclass
from pathlib import Path
from typing import Any

from vdctui.fleet_socket import (
    ANSWER_NOT_PENDING,
    ANSWER_TAKEN,
    UNANNOUNCED_S,
    RequestSocket,
)
from vdctui.model import Role
from vdctui.ops import Console, Failed, Refused
from vdctui.ops.errors import NotAllowed
from vdctui.ops.requests import perform
from vdctui.stopping import cancelled
from vdctui.store.requests import (
    BY_ROLE,
    CANCELLED,
    CANCELLING,
    DONE,
    FAILED,
    PENDING,
    REFUSED,
    FleetRequest,
)

SERVE_EVERY_S = 0.05  # how often the holder looks for requests
ROUNDS_WATCHED = 20  # rounds a request stays unannounced past UNANNOUNCED_S before refused
REPORT_EVERY_S = 0.25  # how often the holder writes an operation's progress
REPORTS_KEPT = 200  # an operation's last reports kept in its request row


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
            await cancelled(self._loop)
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

    async def _announced(self, request_id: int, digest: str, user: str) -> str:
        """A process of OS user `user` announced request `request_id`, asked as `digest`
        says: take it if it names `user` as its asker and holds just what was asked (in
        the transaction that takes it). Else refuse the announcement, audited as `user`'s:
        a request of `user`'s that was rewritten since it was asked is refused with it;
        another user's is left pending for its own asker."""
        store = self.console.store

        def asked_so(request: FleetRequest) -> bool:
            return request.actor == user and request.fingerprint() == digest

        taken = store.take_request(request_id, fits=asked_so)
        if taken is not None:
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
            said = {**reports.close(), **({BY_ROLE: True} if isinstance(exc, NotAllowed) else {})}
            store.answer_request(request.id, REFUSED, answer=said, error=str(exc))
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
