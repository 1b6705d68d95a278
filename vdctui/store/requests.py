"""Changes asked of the process that holds the embedded fleet (schema migration 9).

A process that cannot hold the fleet (another one does) writes its change here as a
request: the action, its target and parameters, who asks and with what role. The
holder takes it (once: a conditional update in one write transaction), carries it out
through the ops door as the asker, and writes the answer: done (with what the asker
needs to show the result), refused or failed (with the sentence). A pending request
can be withdrawn by its asker, once, so that it is carried out by exactly one process.
The row is the request's durable record, not its answer's way: anyone in the group can
write it, so the asker hears the answer from the holder itself, on the connection it
announced the request on (vdctui.fleet_socket). See vdctui.fleet_sharing.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from vdctui.frozen import frozen
from vdctui.imports import on_first_use
from vdctui.model import Role
from vdctui.store import owners
from vdctui.store.base import StoreBase, to_json

if TYPE_CHECKING:
    import hashlib
else:  # run when a record is chained or a request fingerprinted: not by a CLI read
    hashlib = on_first_use("hashlib")

PENDING, TAKEN, DONE, REFUSED, FAILED, WITHDRAWN = (
    "pending",
    "taken",
    "done",
    "refused",
    "failed",
    "withdrawn",
)
# the asker asked a taken request to stop (Ctrl-C, on its connection; noted here by the
# holder): it is cancelled if not carried out yet, or stopped if it can be (an evacuation)
CANCELLING, CANCELLED = "cancelling", "cancelled"
UNDER_WAY = frozenset({TAKEN, CANCELLING})
ANSWERED = frozenset({DONE, REFUSED, FAILED, CANCELLED})
BY_ROLE = "refused_by_role"  # in a refused request's answer: refused by the role check
ANSWERS_KEPT_S = 86_400.0  # answered requests older than this are deleted when a new one comes

# every field of a request the holder acts on: the digest its asker announces covers them
FINGERPRINTED = ("id", "action", "target", "params", "actor", "role")


_SELECT = (
    "SELECT id, action, target, params, actor, role, asked, state, answer, error, task_id, "
    "taker, taker_host, taker_pid, taker_started FROM fleet_requests"
)


@frozen
class FleetRequest:
    id: int
    action: str
    target: str
    params: dict[str, Any]
    actor: str
    role: Role
    asked: float
    state: str
    answer: dict[str, Any]
    error: str
    task_id: int | None
    taker: str | None  # the holder that took it: its session, and below its process
    taker_host: str | None
    taker_pid: int | None
    taker_started: str | None

    def fingerprint(self) -> str:
        """The digest of what this request asks, as the holder reads it (see `fingerprint`)."""
        return fingerprint(self.id, self.action, self.target, self.params, self.actor, self.role)

    def taker_alive(self) -> bool:
        """Whether the process that took this request is still there."""
        owner = (self.taker_host, self.taker_pid, self.taker_started, self.taker, None)
        return owners.alive(owner, time.time())


def fingerprint(
    id: int, action: str, target: str, params: dict[str, Any], actor: str, role: Role
) -> str:
    """The digest of a request's FINGERPRINTED fields: the asker computes it from what it
    asked and announces it; the holder carries out only a row whose digest is the same.
    `params` as the store writes them (canonical JSON, read back)."""
    written = json.loads(to_json(params))
    asked = [id, action, target, written, actor, role.value]
    text = json.dumps(asked, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _request(row: Sequence[Any]) -> FleetRequest:
    """A request row as the holder and the asker read it: anyone in the data center's
    group can write the db, so a role or JSON that does not parse is read as the least
    it can stand for (a viewer, nothing), never raised: one bad row stops no other."""
    try:
        role = Role(row[5])
    except ValueError:
        role = Role.VIEWER
    return FleetRequest(
        id=row[0],
        action=row[1],
        target=row[2],
        params=_object(row[3]),
        actor=row[4],
        role=role,
        asked=row[6],
        state=row[7],
        answer=_object(row[8]),
        error=row[9],
        task_id=row[10],
        taker=row[11],
        taker_host=row[12],
        taker_pid=row[13],
        taker_started=row[14],
    )


def _asker_gone(host: str | None, pid: int | None, started: str | None) -> bool:
    """Whether the process that asked a request is known to be gone (this machine's, by
    pid and start time; this process is not gone; another machine's is not known)."""
    if host != owners.this_host() or pid is None or pid == os.getpid():
        return False
    now_started = owners.process_started(pid)
    return now_started is None or bool(started and now_started and now_started != started)


def _object(text: Any) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except (TypeError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


class RequestStore(StoreBase):
    """The requests table: ask, take, answer, withdraw."""

    owner: owners.Owner

    def ask(self, action: str, target: str, params: dict[str, Any], actor: str, role: Role) -> int:
        """Write a pending request; its id."""
        me = self.owner
        with self._db.atomic():
            self._db.execute(
                "DELETE FROM fleet_requests WHERE state NOT IN (?, ?) AND asked < ?",
                [PENDING, TAKEN, time.time() - ANSWERS_KEPT_S],
            )
            cursor = self._db.execute(
                "INSERT INTO fleet_requests (action, target, params, actor, role, asked, "
                "asker_host, asker_pid, asker_started, state) VALUES (?,?,?,?,?,?,?,?,?,?)",
                [
                    action,
                    target,
                    to_json(params),
                    actor,
                    role.value,
                    time.time(),
                    me.host,
                    me.pid,
                    me.started,
                    PENDING,
                ],
            )
        return int(cursor.lastrowid or 0)

    def request(self, request_id: int) -> FleetRequest | None:
        row = self._db.execute(f"{_SELECT} WHERE id = ?", [request_id]).fetchone()
        return None if row is None else _request(row)

    def has_pending_requests(self) -> bool:
        """A cheap look (no write) for the holder's loop."""
        row = self._db.execute(
            "SELECT 1 FROM fleet_requests WHERE state = ? LIMIT 1", [PENDING]
        ).fetchone()
        return row is not None

    def take_request(
        self, request_id: int | None = None, *, fits: Callable[[FleetRequest], bool] | None = None
    ) -> FleetRequest | None:
        """Request `request_id` (else the oldest pending one), now taken by this process,
        as read in the transaction that took it; None when it is not pending, or does not
        `fit` (what its asker announced it holds)."""
        me = self.owner
        with self._db.atomic():
            if request_id is None:
                row = self._db.execute(
                    f"{_SELECT} WHERE state = ? ORDER BY id LIMIT 1", [PENDING]
                ).fetchone()
            else:
                row = self._db.execute(
                    f"{_SELECT} WHERE state = ? AND id = ?", [PENDING, request_id]
                ).fetchone()
            if row is None:
                return None
            request = _request(row)
            if fits is not None and not fits(request):
                return None
            self._db.execute(
                "UPDATE fleet_requests SET state = ?, taker = ?, taker_host = ?, taker_pid = ?, "
                "taker_started = ? WHERE id = ? AND state = ?",
                [TAKEN, me.session, me.host, me.pid, me.started, request.id, PENDING],
            )
        return replace(
            request,
            state=TAKEN,
            taker=me.session,
            taker_host=me.host,
            taker_pid=me.pid,
            taker_started=me.started,
        )

    def answer_request(
        self,
        request_id: int,
        state: str,
        *,
        answer: dict[str, Any] | None = None,
        error: str = "",
        task_id: int | None = None,
    ) -> None:
        with self._db.atomic():
            self._db.execute(
                "UPDATE fleet_requests SET state = ?, answer = ?, error = ?, task_id = ?, "
                "ended = ? WHERE id = ?",
                [state, to_json(answer or {}), error, task_id, time.time(), request_id],
            )

    def record_cancel(self, request_id: int) -> bool:
        """Note in its row that the asker of a taken request cancelled it (the holder
        writes it, as a record: what it acts on is the asker's word on its connection);
        whether it was still under way."""
        with self._db.atomic():
            cursor = self._db.execute(
                "UPDATE fleet_requests SET state = ? WHERE id = ? AND state = ?",
                [CANCELLING, request_id, TAKEN],
            )
        return bool(cursor.rowcount)

    def forget_reads_of_gone_askers(self, reads: Collection[str]) -> int:
        """Delete the requests for reads (`reads`: their actions) whose askers are gone,
        in any state: a read's row is only its answer's way, and nobody waits for it any
        more. A live asker's are kept: this machine's processes are told by pid and start
        time; another machine's, which cannot be told, are left to the day's pruning.
        How many were deleted."""
        if not reads:
            return 0
        marks = ",".join("?" * len(reads))
        rows = self._db.execute(
            "SELECT id, asker_host, asker_pid, asker_started FROM fleet_requests "
            f"WHERE action IN ({marks})",
            list(reads),
        ).fetchall()
        gone = [r[0] for r in rows if _asker_gone(r[1], r[2], r[3])]
        if gone:
            with self._db.atomic():
                self._db.execute(
                    f"DELETE FROM fleet_requests WHERE id IN ({','.join('?' * len(gone))})",
                    gone,
                )
        return len(gone)

    def pending_since(self, asked_before: float) -> list[FleetRequest]:
        """The requests still pending that were asked before `asked_before`."""
        rows = self._db.execute(
            f"{_SELECT} WHERE state = ? AND asked < ? ORDER BY id", [PENDING, asked_before]
        )
        return [_request(r) for r in rows]

    def refuse_pending(self, request_id: int, error: str) -> bool:
        """Refuse a request nobody took; whether it was still pending."""
        with self._db.atomic():
            cursor = self._db.execute(
                "UPDATE fleet_requests SET state = ?, error = ?, ended = ? "
                "WHERE id = ? AND state = ?",
                [REFUSED, error, time.time(), request_id, PENDING],
            )
        return bool(cursor.rowcount)

    def forget_request(self, request_id: int) -> None:
        """Delete a request its asker is done with (a read: its answer was all it was)."""
        with self._db.atomic():
            self._db.execute("DELETE FROM fleet_requests WHERE id = ?", [request_id])

    def withdraw_request(self, request_id: int) -> bool:
        """Withdraw a request nobody took yet; whether it was withdrawn (False: taken)."""
        with self._db.atomic():
            cursor = self._db.execute(
                "UPDATE fleet_requests SET state = ?, ended = ? WHERE id = ? AND state = ?",
                [WITHDRAWN, time.time(), request_id, PENDING],
            )
        return bool(cursor.rowcount)
