"""The store's side of sealing: begin a seal, evolve its key, check a log with a key.

See `seal.py` for the scheme. The live key sits in one row of `audit_seal_key`;
when an epoch ends that row is overwritten with the next key inside the write
transaction that closes the epoch, with `secure_delete` on (SQLite zeroes the
bytes it frees) and a WAL checkpoint after it (so the old page leaves the WAL).
What SQLite cannot promise is said in the README: a checkpoint that a reader
holds back leaves the old key in the WAL until the next one, and the file
system or a backup may keep old blocks.
"""

from __future__ import annotations

import contextlib
import math
import sqlite3
from collections.abc import Iterator

from vdctui.model import AuditProblem, AuditSeal
from vdctui.store.audit_record import canonical_or_none
from vdctui.store.base import StoreBase
from vdctui.store.errors import StoreError
from vdctui.store.schema import GENESIS_HASH
from vdctui.store.seal import (
    ENDED,
    INIT_EPOCH,
    EpochTag,
    LiveSeal,
    SealCheck,
    SealedRow,
    SealKey,
    SealRecord,
    epoch_at,
    evolve,
    when,
)
from vdctui.store.txn import immediate, retrying

DEFAULT_EPOCH_S = 900  # 15 minutes, as journald: what a takeover can rewrite, at most
_LIVE = "SELECT seal_id, started, epoch_s, epoch, key, count FROM audit_seal_key"
_TAG_COLUMNS = "epoch, next_epoch, last_id, last_hash, count, mac"


def chain_head(conn: sqlite3.Connection) -> tuple[int, str]:
    """The last id and hash, from the head (or from the rows, if the head row is gone)."""
    row = conn.execute("SELECT last_id, last_hash FROM audit_head").fetchone()
    if row is None:
        row = conn.execute("SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1").fetchone()
    return (0, GENESIS_HASH) if row is None else (int(row[0]), str(row[1]))


class AuditSealing(StoreBase):
    """Forward-secure seals on the audit log (a mixin of `AuditStore`)."""

    _key_erased: bool = False

    # --- the live key -----------------------------------------------------------

    def _live_seal(self, conn: sqlite3.Connection) -> LiveSeal | None:
        row = conn.execute(_LIVE).fetchone()
        if row is None:
            return None
        seal_id, started, epoch_s, epoch, key, count = row
        if not (isinstance(key, bytes) and len(key) == 32 and float(epoch_s) >= 1):
            raise StoreError(
                f"the audit seal's key in {self.path} is damaged; `vdctui audit seal init "
                "--replace` starts a new seal"
            )
        return LiveSeal(str(seal_id), float(started), float(epoch_s), int(epoch), key, int(count))

    def _advance_seal(self, conn: sqlite3.Connection, now: float) -> LiveSeal | None:
        """Inside a write transaction: close the epochs that have ended (one tag for
        the last one with records, pointing to the epoch now) and erase their key."""
        live = self._live_seal(conn)
        if live is None:
            return None
        target = epoch_at(live.started, live.epoch_s, now)
        if target <= live.epoch:
            return live
        self._close_epoch(conn, live, target)
        key = evolve(live.key, target - live.epoch)
        conn.execute("UPDATE audit_seal_key SET epoch = ?, key = ?, count = 0", [target, key])
        self._key_erased = True
        return LiveSeal(live.seal_id, live.started, live.epoch_s, target, key, 0)

    def _close_epoch(self, conn: sqlite3.Connection, live: LiveSeal, next_epoch: int) -> None:
        last_id, last_hash = chain_head(conn)
        tag = EpochTag(live.epoch, next_epoch, last_id, last_hash, live.count)
        _insert_tag(conn, live.seal_id, tag.sealed(live.key, live.seal_id))

    def _erase_old_keys(self) -> None:
        """After a transaction that replaced a key: move it out of the WAL (best effort)."""
        if not self._key_erased:
            return
        self._key_erased = False
        # A reader in another process may hold it back; the next checkpoint overwrites it.
        with contextlib.suppress(sqlite3.OperationalError):
            self._db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()

    def advance_audit_seal(self) -> None:
        """Erase the key of an epoch that has ended, even when nothing is written
        (the store does this when it opens; a long-running console on each sync)."""
        conn = self._db.conn
        try:
            live = self._live_seal(conn)
            if live is None or epoch_at(live.started, live.epoch_s, self._now()) <= live.epoch:
                return
            retrying(conn, self.path, "Sealing the audit log", self._advance_in_transaction)
        except (sqlite3.OperationalError, StoreError):
            # Busy, read-only, damaged or an older schema: nothing to erase here now;
            # the next append (which must seal) says what is wrong.
            return
        self._erase_old_keys()

    def _advance_in_transaction(self) -> None:
        with immediate(self._db.conn) as conn:
            self._advance_seal(conn, self._now())

    # --- beginning a seal -------------------------------------------------------

    def seal_audit(self, *, epoch_s: float = DEFAULT_EPOCH_S, replace: bool = False) -> str:
        """Begin sealing; return the verification key (K_0 and the epoch parameters),
        which the store does not keep once epoch 0 ends. `replace` ends the current
        seal (its last epoch is closed) and starts a new one."""
        if not (math.isfinite(epoch_s) and 1 <= epoch_s <= 10**9):
            raise StoreError(f"an epoch lasts from 1 s to 10^9 s, not {epoch_s!r}")
        import secrets  # only to begin a seal: a CLI read begins none

        initial = secrets.token_bytes(32)

        def begin() -> SealKey:
            with immediate(self._db.conn) as conn:
                now = self._now()
                live = self._advance_seal(conn, now)
                last_id, last_hash = chain_head(conn)
                if live is not None:
                    if not replace:
                        raise StoreError(
                            f"the audit log is already sealed (since {when(live.started)}); "
                            "--replace starts a new seal, and the auditor's key stops at "
                            "this point"
                        )
                    _insert_tag(
                        conn,
                        live.seal_id,
                        EpochTag(live.epoch, ENDED, last_id, last_hash, live.count).sealed(
                            live.key, live.seal_id
                        ),
                    )
                    conn.execute(
                        "UPDATE audit_seals SET replaced_at = ? WHERE seal_id = ?",
                        [last_id + 1, live.seal_id],
                    )
                key = SealKey(initial, float(math.floor(now)), float(int(epoch_s)), last_id + 1)
                seal_id = key.seal_id
                conn.execute(
                    "INSERT INTO audit_seals (seal_id, started, epoch_s, first_id, replaced_at) "
                    "VALUES (?, ?, ?, ?, NULL)",
                    [seal_id, key.started, key.epoch_s, key.first_id],
                )
                start = EpochTag(INIT_EPOCH, 0, last_id, last_hash, last_id)
                _insert_tag(conn, seal_id, start.sealed(initial, seal_id))
                conn.execute(
                    "INSERT OR REPLACE INTO audit_seal_key "
                    "(one, seal_id, started, epoch_s, epoch, key, count) "
                    "VALUES (1, ?, ?, ?, 0, ?, 0)",
                    [seal_id, key.started, key.epoch_s, initial],
                )
                self._key_erased = live is not None
                return key

        key = retrying(self._db.conn, self.path, "Sealing the audit log", begin)
        self._erase_old_keys()
        return key.text()

    def audit_seal(self) -> AuditSeal | None:
        """The active seal (no key material), or None when the log is not sealed."""
        live = self._live_seal(self._db.conn)
        if live is None:
            return None
        row = self._db.execute(
            "SELECT first_id FROM audit_seals WHERE seal_id = ?", [live.seal_id]
        ).fetchone()
        return AuditSeal(
            seal_id=live.seal_id,
            started=live.started,
            epoch_s=live.epoch_s,
            epoch=live.epoch,
            first_id=None if row is None else int(row[0]),
        )

    # --- checking ----------------------------------------------------------------

    def _unsealed_records(self) -> list[AuditProblem]:
        """Without the key: records written without a seal after the log was first
        sealed (its live key was removed, or rows were added around the store)."""
        conn = self._db.conn
        try:
            first = conn.execute("SELECT MIN(first_id) FROM audit_seals").fetchone()[0]
            if first is None:
                return []
            row = conn.execute(
                "SELECT MIN(id), COUNT(*) FROM audit WHERE id >= ? AND seal IS NULL", [first]
            ).fetchone()
        except sqlite3.Error:
            return []
        if not row[1]:
            return []
        which = (
            f"record {row[0]} is" if row[1] == 1 else f"record {row[0]} and {row[1] - 1:,} more are"
        )
        return [
            AuditProblem(
                int(row[0]),
                f"{which} not sealed, though the log is sealed from record {first} on: "
                "the seal was removed, or records were added around the store",
            )
        ]

    # --- checking with the auditor's key ----------------------------------------

    def _check_seal(self, key_text: str, max_problems: int) -> tuple[list[AuditProblem], list[str]]:
        key = SealKey.parse(key_text)
        conn = self._db.conn
        row = conn.execute(
            "SELECT seal_id, started, epoch_s, first_id, replaced_at FROM audit_seals "
            "WHERE seal_id = ?",
            [key.seal_id],
        ).fetchone()
        if row is None:
            text = (
                f"the log holds no seal made with this key (it sealed from record "
                f"{key.first_id} on, from {when(key.started)}): the seal was removed or "
                "the log replaced, or the key is for another log"
            )
            return [AuditProblem(key.first_id, text)], []
        seal = SealRecord(str(row[0]), float(row[1]), float(row[2]), int(row[3]), row[4])
        if (seal.started, seal.epoch_s, seal.first_id) != (
            key.started,
            key.epoch_s,
            key.first_id,
        ):
            text = "the seal's start, epoch length or first record in the log differ from the key's"
            return [AuditProblem(key.first_id, text)], []
        tags = {
            int(t[0]): EpochTag(int(t[0]), int(t[1]), int(t[2]), str(t[3]), int(t[4]), str(t[5]))
            for t in conn.execute(
                f"SELECT {_TAG_COLUMNS} FROM audit_seal_tags WHERE seal_id = ?", [seal.seal_id]
            )
        }
        check = SealCheck(key, seal, tags, max_problems)
        before = conn.execute(
            "SELECT id, hash FROM audit WHERE id = ?", [key.first_id - 1]
        ).fetchone()
        check.start(None if before is None else (int(before[0]), str(before[1])))
        check.walk(self._sealed_rows(key.first_id, seal.replaced_at))
        try:
            live = self._live_seal(conn)
        except StoreError:
            live = None
        check.finish(live, self._now())
        return check.problems, check.notes

    def _sealed_rows(self, first: int, end: int | None) -> Iterator[SealedRow]:
        sql = (
            "SELECT id, ts, actor, role, action, target, params, result, error, hash, "
            "seal_epoch, seal FROM audit WHERE id >= ?"
        )
        params: list[int] = [first]
        if end is not None:
            sql += " AND id < ?"
            params.append(end)
        for row in self._db.conn.execute(sql + " ORDER BY id", params):
            epoch = row[10] if isinstance(row[10], int) else None
            yield SealedRow(row[0], canonical_or_none(row[:9]), str(row[9]), epoch, row[11])


def _insert_tag(conn: sqlite3.Connection, seal_id: str, tag: EpochTag) -> None:
    conn.execute(
        f"INSERT OR REPLACE INTO audit_seal_tags (seal_id, {_TAG_COLUMNS}) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [seal_id, tag.epoch, tag.next_epoch, tag.last_id, tag.last_hash, tag.count, tag.mac],
    )
