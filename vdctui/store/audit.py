"""The audit log: append-only, hash-chained, sealed, verifiable, exportable.

How a record is hashed is in `audit_record.py`, how the log is checked in
`audit_verify.py`, how it is sealed in `seal.py` and `sealing.py`. The
`audit_head` table keeps the last id and hash, written in the same transaction as
the rows, so that rows removed from the end of the log show too.
"""

from __future__ import annotations

import csv
import json
import math
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import field
from typing import Any, Literal, TextIO

from vdctui.escape import csv_row
from vdctui.frozen import frozen
from vdctui.model import AuditRecord, Role
from vdctui.store.audit_record import (
    COLUMNS,
    SELECT_AUDIT,
    canonical,
    canonical_or_none,
    chain_hash,
    iso_utc,
)
from vdctui.store.audit_verify import MAX_PROBLEMS, AuditVerification
from vdctui.store.base import to_json
from vdctui.store.errors import StoreError
from vdctui.store.seal import record_sealer
from vdctui.store.sealing import chain_head
from vdctui.store.txn import immediate, retrying

__all__ = [
    "COLUMNS",
    "MAX_PROBLEMS",
    "AuditEntry",
    "AuditStore",
    "canonical",
    "canonical_or_none",
    "chain_hash",
    "iso_utc",
]

_SELECT = SELECT_AUDIT
_WRITTEN = (*COLUMNS, "seal_epoch", "seal")
_INSERT = f"INSERT INTO audit ({', '.join(_WRITTEN)}) VALUES ({', '.join('?' for _ in _WRITTEN)})"
_ROLES = {role.value: role for role in Role}


@frozen
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


@frozen
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


class AuditStore(AuditVerification):
    """The hash-chained audit log, sealed once `seal_audit` has begun a seal."""

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
