"""An audit record as text: its columns, its canonical form, its hash, its time.

Every record stores `prev_hash` and `hash = sha256(prev_hash + canonical)`, where
`canonical` is `json.dumps({id, ts, actor, role, action, target, params, result,
error}, sort_keys=True, separators=(",", ":"))` with params as an object. The
first record's prev_hash is 64 zeros.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from json.encoder import encode_basestring_ascii as _quote
from typing import TYPE_CHECKING, Any

from vdctui.imports import on_first_use

if TYPE_CHECKING:
    import hashlib
else:  # run when a record is chained or a request fingerprinted: not by a CLI read
    hashlib = on_first_use("hashlib")

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
SELECT_AUDIT = f"SELECT {', '.join(COLUMNS)} FROM audit"


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


def canonical_or_none(fields: Sequence[Any]) -> str | None:
    """The canonical text of a stored row's first nine fields; None if one is mangled."""
    try:
        return canonical(*fields[:9])
    except (TypeError, ValueError):
        return None


def hash_holds(row: Sequence[Any]) -> bool:
    """Whether a stored row's hash matches its content (False for any mangled value)."""
    try:
        return chain_hash(row[9], canonical(*row[:9])) == row[10]
    except (TypeError, ValueError):
        return False


def iso_utc(ts: float) -> str:
    """ISO 8601 in UTC with microseconds ("2023-11-14T22:13:20.250000Z"); "" beyond dates."""
    try:
        moment = datetime.fromtimestamp(float(ts), UTC)
    except (OverflowError, OSError, ValueError, TypeError):
        return ""
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")
