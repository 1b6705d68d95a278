"""The audit log: append-only, hash-chained, verifiable, exportable.

Every record stores `prev_hash` and `hash = sha256(prev_hash + canonical)`, where
`canonical` is `json.dumps({id, ts, actor, role, action, target, params, result,
error}, sort_keys=True, separators=(",", ":"))` with params as an object. The
first record's prev_hash is 64 zeros. The `audit_head` table keeps the last id
and hash, written in the same transaction as the rows, so that rows removed
from the end of the log show too.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from json.encoder import encode_basestring_ascii as _quote
from typing import Any, Literal, TextIO

from vdctui.escape import csv_row
from vdctui.model import AuditCheck, AuditProblem, AuditRecord, Role
from vdctui.store.base import to_json
from vdctui.store.errors import StoreError
from vdctui.store.schema import GENESIS_HASH
from vdctui.store.seal import record_sealer
from vdctui.store.sealing import AuditSealing, chain_head
from vdctui.store.syslog import SyslogCopy
from vdctui.store.txn import immediate, retrying

COLUMNS = (
    "id",
    "ts",
    "actor",
    "role",
    "action",
    "target",
    "params",
    "result",
    "error",
    "prev_hash",
    "hash",
)
_SELECT = f"SELECT {', '.join(COLUMNS)} FROM audit"
_WRITTEN = (*COLUMNS, "seal_epoch", "seal")
_INSERT = f"INSERT INTO audit ({', '.join(_WRITTEN)}) VALUES ({', '.join('?' for _ in _WRITTEN)})"
MAX_PROBLEMS = 10_000
_ROLES = {role.value: role for role in Role}


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """What an operator did, before the store numbers and chains it."""

    actor: str
    role: Role | str
    action: str
    target: str
    params: Mapping[str, Any] = field(default_factory=dict)
    result: str = "ok"
    error: str = ""
    ts: float | None = None


def canonical(
    record_id: int,
    ts: float,
    actor: str,
    role: str,
    action: str,
    target: str,
    params_json: str,
    result: str,
    error: str,
) -> str:
    """The canonical text of a record; `params_json` is already canonical JSON.

    Equal to json.dumps of the record's fields with sort_keys and compact
    separators, built by hand because it is on the hot path of append and verify.
    """
    return (
        f'{{"action":{_quote(action)},"actor":{_quote(actor)},"error":{_quote(error)},'
        f'"id":{int(record_id)},"params":{params_json},"result":{_quote(result)},'
        f'"role":{_quote(role)},"target":{_quote(target)},"ts":{float(ts)!r}}}'
    )


def chain_hash(prev_hash: str, text: str) -> str:
    return hashlib.sha256((prev_hash + text).encode()).hexdigest()


def _record(row: Sequence[Any]) -> AuditRecord:
    return AuditRecord(
        id=row[0],
        ts=row[1],
        actor=row[2],
        role=Role(row[3]),
        action=row[4],
        target=row[5],
        params=json.loads(row[6]),
        result=row[7],
        error=row[8],
        prev_hash=row[9],
        hash=row[10],
    )


@dataclass(frozen=True, slots=True)
class _Checked:
    """An entry checked and put in canonical form, before it gets an id."""

    ts: float | None
    fields: tuple[str, str, str, str, str, str, str]  # actor, role, action, target, params...
    params: dict[str, Any] | None  # the params as stored, when JSON keeps them as they are


def _checked(entry: AuditEntry) -> _Checked:
    ts = None
    if entry.ts is not None:
        # + 0.0: SQLite keeps -0.0 as 0, so the hash must be of 0.0 too
        ts = float(entry.ts) + 0.0
        if not math.isfinite(ts):
            raise StoreError(f"an audit record needs a finite time, not {ts!r}")
    role = str(entry.role) if entry.role in _ROLES else Role(entry.role).value
    given = dict(entry.params)
    params = to_json(given)
    fields = (entry.actor, role, entry.action, entry.target, params, entry.result, entry.error)
    return _Checked(ts, fields, given if _plain(given) else None)


_PLAIN = (str, int, float, bool, type(None))


def _plain(params: dict[str, Any]) -> bool:
    """Whether JSON gives `params` back equal (str keys, scalar values): no need to parse."""
    return all(type(k) is str and type(v) in _PLAIN for k, v in params.items())


def iso_utc(ts: float) -> str:
    """ISO 8601 in UTC with microseconds ("2023-11-14T22:13:20.250000Z"); "" beyond dates."""
    try:
        moment = datetime.fromtimestamp(float(ts), UTC)
    except (OverflowError, OSError, ValueError, TypeError):
        return ""
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


def _span(first: int, last: int) -> str:
    return f"row {first} is" if first == last else f"rows {first}–{last} are"


class AuditStore(AuditSealing):
    """The hash-chained audit log, sealed once `seal_audit` has begun a seal."""

    _syslog: SyslogCopy

    def _open_audit(self) -> None:
        """When the store opens: SQLite zeroes what it frees (erased seal keys among
        it), and an epoch that ended while no process ran has its key erased now."""
        self._db.execute("PRAGMA secure_delete = ON")
        self.advance_audit_seal()

    # --- writing --------------------------------------------------------------

    def append_audit(
        self,
        *,
        actor: str,
        role: Role | str,
        action: str,
        target: str,
        params: Mapping[str, Any] | None = None,
        result: str = "ok",
        error: str = "",
        ts: float | None = None,
    ) -> AuditRecord:
        """Append one record to the chain and return it."""
        entry = AuditEntry(actor, role, action, target, params or {}, result, error, ts)
        return self.append_audit_many([entry])[0]

    def append_audit_many(
        self, entries: Iterable[AuditEntry | Mapping[str, Any]]
    ) -> list[AuditRecord]:
        """Append records in one transaction (all or none) and return them in order.

        The head is read inside the write transaction, so appends from several
        processes (or connections) stay one linear chain.
        """
        batch = [_checked(e if isinstance(e, AuditEntry) else AuditEntry(**e)) for e in entries]
        if not batch:
            return []
        rows = retrying(
            self._db.conn,
            self.path,
            "Recording the audit record",
            lambda: self._write_chain(batch),
        )
        self._erase_old_keys()
        dropped, reason = self._syslog.send(rows)
        if dropped:
            self._count_syslog_dropped(dropped, rows[-1][0], reason)
        roles = _ROLES
        return [
            AuditRecord(
                r[0],
                r[1],
                r[2],
                roles[r[3]],
                r[4],
                r[5],
                json.loads(r[6]) if e.params is None else e.params,
                *r[7:11],
            )
            for r, e in zip(rows, batch, strict=True)
        ]

    def _count_syslog_dropped(self, dropped: int, last_id: int, reason: str) -> None:
        """Remember, for `audit verify`, records the system log did not take (best effort:
        this must not fail the change the record is about)."""
        try:
            with immediate(self._db.conn) as conn:
                conn.execute(
                    "INSERT INTO audit_syslog (one, dropped, last_dropped_id, reason) "
                    "VALUES (1, ?, ?, ?) ON CONFLICT (one) DO UPDATE SET "
                    "dropped = dropped + excluded.dropped, "
                    "last_dropped_id = excluded.last_dropped_id, reason = excluded.reason",
                    [dropped, last_id, reason],
                )
        except sqlite3.Error:
            pass

    def _syslog_notes(self) -> list[str]:
        notes = [self._syslog.setting.said]
        try:
            row = self._db.conn.execute(
                "SELECT dropped, last_dropped_id, reason FROM audit_syslog"
            ).fetchone()
        except sqlite3.Error:
            row = None
        if row is not None and row[0]:
            notes.append(
                f"warning: {row[0]:,} records (the last: record {row[1]}) could not be sent "
                f"to the system log ({row[2]}); they are only in this file"
            )
        return notes

    def _write_chain(self, batch: list[_Checked]) -> list[tuple[Any, ...]]:
        conn = self._db.conn
        with immediate(conn):
            now = self._now() + 0.0
            live = self._advance_seal(conn, now)
            if live is not None:
                sealer = record_sealer(live.key, live.seal_id, live.epoch)
            last_id, last_hash = chain_head(conn)
            rows: list[tuple[Any, ...]] = []
            for entry in batch:
                ts = now if entry.ts is None else entry.ts
                last_id += 1
                text = canonical(last_id, ts, *entry.fields)
                digest = chain_hash(last_hash, text)
                if live is None:
                    rows.append((last_id, ts, *entry.fields, last_hash, digest, None, None))
                else:
                    seal = sealer(text)
                    rows.append((last_id, ts, *entry.fields, last_hash, digest, live.epoch, seal))
                last_hash = digest
            conn.executemany(_INSERT, rows)
            if live is not None:
                conn.execute("UPDATE audit_seal_key SET count = count + ?", [len(rows)])
            conn.execute(
                "INSERT OR REPLACE INTO audit_head (one, last_id, last_hash) VALUES (1, ?, ?)",
                [last_id, last_hash],
            )
        return rows

    # --- reading --------------------------------------------------------------

    def audit(
        self,
        *,
        actor: str | None = None,
        action: str | None = None,
        target: str | None = None,
        since: float | None = None,
        until: float | None = None,
        result: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[AuditRecord]:
        """Records matching every filter given, newest first; since <= ts < until."""
        where, params = _filters(actor, action, target, since, until, result)
        sql = f"{_SELECT}{where} ORDER BY id DESC LIMIT ? OFFSET ?"
        params += [-1 if limit is None else limit, offset]
        return [_record(r) for r in self._db.execute(sql, params)]

    def count_audit(
        self,
        *,
        actor: str | None = None,
        action: str | None = None,
        target: str | None = None,
        since: float | None = None,
        until: float | None = None,
        result: str | None = None,
    ) -> int:
        where, params = _filters(actor, action, target, since, until, result)
        return int(self._db.execute(f"SELECT COUNT(*) FROM audit{where}", params).fetchone()[0])

    def export_audit(
        self,
        fmt: Literal["csv", "json"],
        out: TextIO,
        *,
        actor: str | None = None,
        action: str | None = None,
        target: str | None = None,
        since: float | None = None,
        until: float | None = None,
        result: str | None = None,
    ) -> int:
        """Write matching records, oldest first, as CSV or a JSON array; return the count.

        Streams: rows go from the cursor to `out` one at a time. Both formats carry
        prev_hash and hash, so an export can be checked against the chain later.
        Times: CSV's `ts` is ISO 8601 UTC and `ts_epoch` the exact number the hash
        covers; JSON has `ts` (the number) and `time` (ISO 8601 UTC).
        """
        if fmt not in ("csv", "json"):
            raise StoreError(f"cannot export the audit log as {fmt!r} (csv or json)")
        where, params = _filters(actor, action, target, since, until, result)
        rows: Iterator[Sequence[Any]] = iter(
            self._db.execute(f"{_SELECT}{where} ORDER BY id", params)
        )
        count = 0
        if fmt == "csv":
            writer = csv.writer(out)
            writer.writerow((*COLUMNS, "ts_epoch"))
            for row in rows:
                row = (row[0], iso_utc(row[1]), *row[2:], repr(float(row[1])))
                writer.writerow(csv_row(row))  # no formula or control character in a cell
                count += 1
            return count
        out.write("[")
        for row in rows:
            item = dict(zip(COLUMNS, row, strict=True))
            item["params"] = json.loads(row[6])
            item["time"] = iso_utc(row[1])
            out.write(("\n" if count == 0 else ",\n") + json.dumps(item, sort_keys=True))
            count += 1
        out.write("\n]\n" if count else "]\n")
        return count

    # --- verifying ------------------------------------------------------------

    def verify_audit(self, *, max_problems: int = MAX_PROBLEMS) -> list[AuditProblem]:
        """Walk the chain in id order and name every place it does not hold.

        An intact chain gives []. Streams the rows; stops after `max_problems`.
        """
        problems: list[AuditProblem] = []
        expected_id = 1
        prev_hash = GENESIS_HASH  # the stored hash of the row before
        prev_bad = False
        cursor = self._db.conn.execute(f"{_SELECT} ORDER BY id")
        for row in cursor:
            if len(problems) >= max_problems:
                problems.append(
                    AuditProblem(
                        row[0],
                        f"verification stopped at row {row[0]} after "
                        f"{max_problems} problems; the rest was not checked",
                    )
                )
                cursor.close()
                return problems
            rid = row[0]
            gap = rid != expected_id
            if gap:
                if rid > expected_id:
                    problems.append(
                        AuditProblem(
                            expected_id,
                            f"{_span(expected_id, rid - 1)} missing "
                            f"(ids jump from {expected_id - 1} to {rid})",
                        )
                    )
                else:
                    problems.append(AuditProblem(rid, f"row {rid} has an id below 1"))
            bad = not _hash_holds(row)
            if bad:
                problems.append(
                    AuditProblem(
                        rid,
                        f"row {rid} was edited or moved: its content no longer matches its hash",
                    )
                )
            elif not gap and not prev_bad and row[9] != prev_hash:
                before = rid - 1
                problems.append(
                    AuditProblem(
                        before,
                        f"row {rid} does not follow row {before}: its "
                        f"prev_hash is not row {before}'s hash (row {before} was "
                        "rewritten and re-hashed, or the link was changed)",
                    )
                )
            expected_id = rid + 1
            prev_hash = row[10]
            prev_bad = bad
        last_id = expected_id - 1
        problems += self._check_head(last_id, prev_hash, prev_bad)
        return problems

    def check_audit(
        self, *, key: str | None = None, max_problems: int = MAX_PROBLEMS
    ) -> AuditCheck:
        """Verify the chain and, with the auditor's key, every seal; say what was checked.

        Raises StoreError for a key that is not a seal key.
        """
        problems = self.verify_audit(max_problems=max_problems)
        notes: list[str] = []
        if key is not None:
            seal_problems, seal_notes = self._check_seal(key, max_problems)
            problems = sorted(problems + seal_problems, key=lambda p: p.record_id)
            notes += seal_notes
        else:
            problems += self._unsealed_records()
            if self.audit_seal() is not None:
                notes.append("the seal was not checked: give the auditor's key (--key) to check it")
            else:
                notes.append(
                    "the log is not sealed: the chain shows damage and edits by someone who "
                    "cannot recompute it; `vdctui audit seal init` seals it"
                )
        notes += self._syslog_notes()
        conn = self._db.conn
        records = int(conn.execute("SELECT COUNT(*) FROM audit").fetchone()[0])
        return AuditCheck(records, chain_head(conn)[1], problems, notes, key is not None)

    def _check_head(self, last_id: int, last_hash: str, last_bad: bool) -> list[AuditProblem]:
        head = self._db.execute("SELECT last_id, last_hash FROM audit_head").fetchone()
        if head is None:
            text = "the audit head is missing, so rows removed from the end cannot be seen"
            return [AuditProblem(last_id, text)]
        head_id, head_hash = int(head[0]), str(head[1])
        if head_id > last_id:
            text = (
                f"{_span(last_id + 1, head_id)} missing at the end "
                f"(the head records row {head_id} as the last)"
            )
            return [AuditProblem(last_id + 1, text)]
        if head_id < last_id:
            text = (
                f"{_span(head_id + 1, last_id)} not written by the store "
                f"(the head records row {head_id} as the last)"
            )
            return [AuditProblem(head_id + 1, text)]
        if last_id and head_hash != last_hash and not last_bad:
            text = (
                f"row {last_id} was rewritten and re-hashed: its hash is not the one "
                "the head recorded"
            )
            return [AuditProblem(last_id, text)]
        return []


def canonical_or_none(fields: Sequence[Any]) -> str | None:
    """The canonical text of a stored row's first nine fields; None if one is mangled."""
    try:
        return canonical(*fields[:9])
    except (TypeError, ValueError):
        return None


def _hash_holds(row: Sequence[Any]) -> bool:
    """Whether a stored row's hash matches its content (False for any mangled value)."""
    try:
        return chain_hash(row[9], canonical(*row[:9])) == row[10]
    except (TypeError, ValueError):
        return False


def _filters(
    actor: str | None,
    action: str | None,
    target: str | None,
    since: float | None,
    until: float | None,
    result: str | None,
) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    for column, value in (
        ("actor", actor),
        ("action", action),
        ("target", target),
        ("result", result),
    ):
        if value is not None:
            clauses.append(f"{column} = ?")
            params.append(value)
    if since is not None:
        clauses.append("ts >= ?")
        params.append(float(since))
    if until is not None:
        clauses.append("ts < ?")
        params.append(float(until))
    return (f" WHERE {' AND '.join(clauses)}" if clauses else ""), params
