"""Checking the audit log: the chain (always), the seals (with the auditor's key), and
what the system log copy could not take."""

from __future__ import annotations

import sqlite3

from vdctui.model import AuditCheck, AuditProblem
from vdctui.store.audit_record import SELECT_AUDIT, hash_holds
from vdctui.store.schema import GENESIS_HASH
from vdctui.store.sealing import AuditSealing, chain_head
from vdctui.store.syslog import SyslogCopy

MAX_PROBLEMS = 10_000


def _span(first: int, last: int) -> str:
    return f"row {first} is" if first == last else f"rows {first}–{last} are"


class AuditVerification(AuditSealing):
    """`verify_audit` and `check_audit` (a mixin of `AuditStore`)."""

    _syslog: SyslogCopy

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

    def verify_audit(self, *, max_problems: int = MAX_PROBLEMS) -> list[AuditProblem]:
        """Walk the chain in id order and name every place it does not hold.

        An intact chain gives []. Streams the rows; stops after `max_problems`.
        """
        problems: list[AuditProblem] = []
        expected_id = 1
        prev_hash = GENESIS_HASH  # the stored hash of the row before
        prev_bad = False
        cursor = self._db.conn.execute(f"{SELECT_AUDIT} ORDER BY id")
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
            bad = not hash_holds(row)
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
