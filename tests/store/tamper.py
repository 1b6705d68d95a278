"""What someone who can write the db file can do to the audit log, done as they would.

Each helper leaves a chain that plain `verify_audit()` accepts: every hash and the
head are recomputed after the change.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from vdctui.store.audit import canonical, chain_hash
from vdctui.store.schema import GENESIS_HASH

FIELDS = ("ts", "actor", "role", "action", "target", "params", "result", "error")


def rechain(conn: sqlite3.Connection) -> None:
    """Recompute every prev_hash, hash and the head, as an attacker with the code would."""
    prev = GENESIS_HASH
    last_id = 0
    rows = conn.execute(f"SELECT id, {', '.join(FIELDS)} FROM audit ORDER BY id").fetchall()
    for row in rows:
        digest = chain_hash(prev, canonical(*row))
        conn.execute(
            "UPDATE audit SET prev_hash = ?, hash = ? WHERE id = ?", [prev, digest, row[0]]
        )
        prev, last_id = digest, row[0]
    conn.execute("UPDATE audit_head SET last_id = ?, last_hash = ?", [last_id, prev])
    conn.commit()


def rewrite(conn: sqlite3.Connection, row_id: int, **changes: Any) -> None:
    """Change a record's fields, then recompute the whole chain and the head."""
    assign = ", ".join(f"{column} = ?" for column in changes)
    conn.execute(f"UPDATE audit SET {assign} WHERE id = ?", [*changes.values(), row_id])
    rechain(conn)


def delete_and_renumber(conn: sqlite3.Connection, row_id: int) -> None:
    """Remove a record, move every later one down by one id, recompute the chain."""
    conn.execute("DELETE FROM audit WHERE id = ?", [row_id])
    later = conn.execute("SELECT id FROM audit WHERE id > ? ORDER BY id", [row_id]).fetchall()
    for (old,) in later:
        conn.execute("UPDATE audit SET id = ? WHERE id = ?", [old - 1, old])
    rechain(conn)


def empty(conn: sqlite3.Connection) -> None:
    """Delete every record and reset the head, as a fresh log would have it."""
    conn.execute("DELETE FROM audit")
    rechain(conn)
