from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vdctui.model import AuditProblem, Role
from vdctui.store import AuditEntry, Store, StoreError
from vdctui.store.audit import canonical, chain_hash
from vdctui.store.schema import GENESIS_HASH


def fill(store: Store, n: int = 10) -> None:
    store.append_audit_many(
        AuditEntry(
            actor="alice" if i % 2 else "bob",
            role=Role.OPERATOR,
            action="vm.start" if i % 3 else "vm.migrate",
            target=f"vm-{i % 4}",
            params={"i": i, "to": "h2"},
            result="ok" if i % 5 else "refused",
            error="" if i % 5 else "alice may not do that",
            ts=1000.0 + i,
        )
        for i in range(1, n + 1)
    )


def sql(store: Store, statement: str, *params: Any) -> None:
    store._db.execute(statement, list(params))


def ids(problems: list[AuditProblem]) -> list[int]:
    return [p.record_id for p in problems]


def test_records_are_chained(store: Store) -> None:
    first = store.append_audit(
        actor="alice", role="admin", action="pool.create", target="web",
        params={"cpu_shares": 2000}, result="ok", ts=12.5,
    )  # fmt: skip
    assert first.id == 1 and first.prev_hash == GENESIS_HASH and first.role is Role.ADMIN
    text = json.dumps(
        {"id": 1, "ts": 12.5, "actor": "alice", "role": "admin", "action": "pool.create",
         "target": "web", "params": {"cpu_shares": 2000}, "result": "ok", "error": ""},
        sort_keys=True, separators=(",", ":"),
    )  # fmt: skip
    assert first.hash == chain_hash(GENESIS_HASH, text)
    second = store.append_audit(actor="bob", role=Role.VIEWER, action="x", target="y",
                                params={}, result="refused", error="no")  # fmt: skip
    assert second.id == 2 and second.prev_hash == first.hash
    assert store.audit() == [second, first]


def test_an_intact_chain_verifies_clean(store: Store) -> None:
    assert store.verify_audit() == []
    fill(store, 50)
    assert store.verify_audit() == []


def test_an_edited_row_is_named(store: Store) -> None:
    fill(store)
    sql(store, "UPDATE audit SET actor = 'mallory' WHERE id = 4")
    problems = store.verify_audit()
    assert ids(problems) == [4]
    assert problems[0].problem.startswith("row 4 was edited")


@pytest.mark.parametrize(
    ("column", "value"),
    [("ts", 1.0), ("role", "admin"), ("params", '{"i":4,"to":"h3"}'), ("result", "ok"),
     ("error", "x"), ("target", "vm-x"), ("action", "vm.delete"), ("ts", "not a number"),
     ("actor", 42), ("prev_hash", "f" * 64), ("hash", "0" * 64)],
)  # fmt: skip
def test_any_edited_column_is_found(store: Store, column: str, value: object) -> None:
    fill(store)
    sql(store, f"UPDATE audit SET {column} = ? WHERE id = 5", value)
    assert ids(store.verify_audit()) == [5]


def test_a_deleted_middle_row_is_named(store: Store) -> None:
    fill(store)
    sql(store, "DELETE FROM audit WHERE id = 6")
    problems = store.verify_audit()
    assert problems == [AuditProblem(6, "row 6 is missing (ids jump from 5 to 7)")]
    sql(store, "DELETE FROM audit WHERE id IN (7, 8)")
    assert store.verify_audit() == [AuditProblem(6, "rows 6–8 are missing (ids jump from 5 to 9)")]


def test_a_deleted_first_row_is_named(store: Store) -> None:
    fill(store)
    sql(store, "DELETE FROM audit WHERE id = 1")
    assert ids(store.verify_audit()) == [1]


def test_a_deleted_last_row_is_named(store: Store) -> None:
    fill(store)
    sql(store, "DELETE FROM audit WHERE id = 10")
    problems = store.verify_audit()
    assert problems == [
        AuditProblem(10, "row 10 is missing at the end (the head records row 10 as the last)")
    ]


def test_a_whole_log_deleted_is_named(store: Store) -> None:
    fill(store, 3)
    sql(store, "DELETE FROM audit")
    assert ids(store.verify_audit()) == [1]


def test_swapped_rows_are_named(store: Store) -> None:
    fill(store)
    cols = "ts, actor, role, action, target, params, result, error, prev_hash, hash"
    a = store._db.execute(f"SELECT {cols} FROM audit WHERE id = 3").fetchone()
    b = store._db.execute(f"SELECT {cols} FROM audit WHERE id = 4").fetchone()
    assign = ", ".join(f"{c} = ?" for c in cols.split(", "))
    sql(store, f"UPDATE audit SET {assign} WHERE id = 3", *b)
    sql(store, f"UPDATE audit SET {assign} WHERE id = 4", *a)
    assert ids(store.verify_audit()) == [3, 4]


def test_swapped_content_with_kept_hashes_is_named(store: Store) -> None:
    fill(store)
    cols = "ts, actor, action, target, params, result, error"
    a = store._db.execute(f"SELECT {cols} FROM audit WHERE id = 3").fetchone()
    b = store._db.execute(f"SELECT {cols} FROM audit WHERE id = 4").fetchone()
    assign = ", ".join(f"{c} = ?" for c in cols.split(", "))
    sql(store, f"UPDATE audit SET {assign} WHERE id = 3", *b)
    sql(store, f"UPDATE audit SET {assign} WHERE id = 4", *a)
    assert ids(store.verify_audit()) == [3, 4]


def _rehash(store: Store, row_id: int, **changes: Any) -> None:
    row = store._db.execute(
        "SELECT id, ts, actor, role, action, target, params, result, error, prev_hash "
        "FROM audit WHERE id = ?",
        [row_id],
    ).fetchone()
    fields = dict(zip(["id", "ts", "actor", "role", "action", "target", "params", "result",
                       "error", "prev_hash"], row, strict=True))  # fmt: skip
    fields.update(changes)
    prev = fields.pop("prev_hash")
    new_hash = chain_hash(prev, canonical(*fields.values()))
    assign = ", ".join(f"{k} = ?" for k in changes)
    sql(store, f"UPDATE audit SET {assign}, hash = ? WHERE id = ?",
        *changes.values(), new_hash, row_id)  # fmt: skip


def test_a_rewritten_and_rehashed_row_is_named(store: Store) -> None:
    fill(store)
    _rehash(store, 4, actor="mallory")
    problems = store.verify_audit()
    assert ids(problems) == [4]
    assert "row 5 does not follow row 4" in problems[0].problem


def test_a_rewritten_and_rehashed_last_row_is_named(store: Store) -> None:
    fill(store)
    _rehash(store, 10, result="ok")
    problems = store.verify_audit()
    assert ids(problems) == [10] and "head" in problems[0].problem


def test_rows_added_behind_the_stores_back_are_named(store: Store) -> None:
    fill(store, 3)
    last = store.audit(limit=1)[0]
    text = canonical(4, 5.0, "mallory", "admin", "x", "y", "{}", "ok", "")
    sql(store, "INSERT INTO audit (id, ts, actor, role, action, target, params, result, error, "
        "prev_hash, hash) VALUES (4, 5.0, 'mallory', 'admin', 'x', 'y', '{}', 'ok', '', "
        "?, ?)", last.hash, chain_hash(last.hash, text))  # fmt: skip
    assert ids(store.verify_audit()) == [4]


def test_verification_stops_after_max_problems(store: Store) -> None:
    fill(store, 20)
    sql(store, "UPDATE audit SET actor = 'x'")
    problems = store.verify_audit(max_problems=5)
    assert ids(problems) == [1, 2, 3, 4, 5, 6]
    assert "stopped" in problems[-1].problem


def test_the_chain_continues_across_reopen(db_path: Path) -> None:
    with Store(db_path) as store:
        fill(store, 5)
    with Store(db_path) as store:
        record = store.append_audit(actor="a", role="viewer", action="b", target="c", params={})
        assert record.id == 6
        assert store.verify_audit() == []


def test_a_second_writer_does_not_break_the_chain(db_path: Path) -> None:
    one, two = Store(db_path), Store(db_path)
    one.append_audit(actor="a", role="viewer", action="b", target="c", params={})
    two.append_audit(actor="d", role="viewer", action="e", target="f", params={})
    one.append_audit(actor="g", role="viewer", action="h", target="i", params={})
    assert [r.id for r in one.audit()] == [3, 2, 1]
    assert one.verify_audit() == []
    one.close()
    two.close()


def test_a_bad_batch_writes_nothing(store: Store) -> None:
    fill(store, 3)
    good = {"actor": "a", "role": "admin", "action": "x", "target": "t", "params": {}}
    with pytest.raises(ValueError):
        store.append_audit_many([good, {**good, "role": "superuser"}])
    with pytest.raises(StoreError, match="finite time"):
        store.append_audit_many([good, {**good, "ts": float("nan")}])
    assert store.count_audit() == 3
    assert store.append_audit(**good).id == 4
    assert store.verify_audit() == []


def test_audit_filters_and_paging(store: Store) -> None:
    fill(store, 40)
    everything = store.audit()
    assert [r.id for r in everything] == list(range(40, 0, -1))
    assert all(r.actor == "alice" for r in store.audit(actor="alice"))
    assert store.count_audit(actor="alice") == 20
    vm1 = store.audit(target="vm-1")
    assert [r.id for r in vm1] == [i for i in range(40, 0, -1) if i % 4 == 1]
    assert [r.id for r in store.audit(action="vm.migrate", actor="bob")] == [36, 30, 24, 18, 12, 6]
    assert [r.id for r in store.audit(since=1010.0, until=1013.0)] == [12, 11, 10]
    assert [r.id for r in store.audit(result="refused")] == [40, 35, 30, 25, 20, 15, 10, 5]
    assert store.audit(limit=5, offset=5) == everything[5:10]
    assert store.audit(target="nope") == []


def test_export_csv(store: Store) -> None:
    fill(store, 6)
    out = io.StringIO()
    assert store.export_audit("csv", out, actor="bob") == 3
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [r["id"] for r in rows] == ["2", "4", "6"]
    first = store.audit(target=rows[0]["target"], actor="bob")[-1]
    assert json.loads(rows[0]["params"]) == first.params
    assert rows[0]["hash"] == first.hash and float(rows[0]["ts_epoch"]) == first.ts
    assert rows[0]["ts"] == "1970-01-01T00:16:42.000000Z"  # ISO 8601 UTC for people


def test_export_csv_time_is_iso_8601_utc(store: Store) -> None:
    store.append_audit(actor="a", role="admin", action="x", target="y", ts=1_700_000_000.25)
    store.append_audit(actor="a", role="admin", action="x", target="y", ts=1e15)
    out = io.StringIO()
    store.export_audit("csv", out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert rows[0]["ts"] == "2023-11-14T22:13:20.250000Z"
    assert rows[1]["ts"] == ""  # beyond year 9999: not a date, the epoch column keeps it
    assert float(rows[1]["ts_epoch"]) == 1e15


def test_export_json(store: Store) -> None:
    fill(store, 6)
    out = io.StringIO()
    assert store.export_audit("json", out) == 6
    data = json.loads(out.getvalue())
    records = store.audit()[::-1]
    assert [d["id"] for d in data] == [r.id for r in records]
    assert data[0]["params"] == records[0].params and data[0]["role"] == "operator"
    assert data[-1]["hash"] == records[-1].hash
    assert data[0]["ts"] == 1001.0 and data[0]["time"] == "1970-01-01T00:16:41.000000Z"
    empty = io.StringIO()
    assert store.export_audit("json", empty, actor="nobody") == 0
    assert json.loads(empty.getvalue()) == []
    with pytest.raises(StoreError, match="cannot export"):
        store.export_audit("xml", io.StringIO())  # type: ignore[arg-type]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)
entries = st.builds(
    AuditEntry,
    actor=st.text(),
    role=st.sampled_from(list(Role)),
    action=st.text(),
    target=st.text(),
    params=st.dictionaries(st.text(), json_values, max_size=4),
    result=st.sampled_from(["ok", "refused", "failed"]),
    error=st.text(),
    ts=st.none() | st.floats(min_value=-1e12, max_value=1e12, allow_nan=False),
)
EDITABLE = ["ts", "actor", "role", "action", "target", "params", "result", "error",
            "prev_hash", "hash"]  # fmt: skip


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batches=st.lists(st.lists(entries, max_size=5), min_size=1, max_size=4), data=st.data())
def test_random_appends_verify_and_any_edit_is_found(
    batches: list[list[AuditEntry]], data: st.DataObject
) -> None:
    with Store(":memory:") as store:
        for batch in batches:
            records = store.append_audit_many(batch)
            for entry, record in zip(batch, records, strict=True):
                assert record.actor == entry.actor and record.target == entry.target
        assert store.verify_audit() == []
        total = store.count_audit()
        if total == 0:
            return
        row_id = data.draw(st.integers(1, total), label="row")
        column = data.draw(st.sampled_from(EDITABLE), label="column")
        old = store._db.execute(f"SELECT {column} FROM audit WHERE id = ?", [row_id]).fetchone()[0]
        new = data.draw(st.text(min_size=1) | st.floats(allow_nan=False), label="new")
        if new == old or (column == "ts" and isinstance(new, float) and new == old):
            return
        sql(store, f"UPDATE audit SET {column} = ? WHERE id = ?", new, row_id)
        stored = store._db.execute(f"SELECT {column} FROM audit WHERE id = ?", [row_id]).fetchone()
        if stored[0] == old:
            return  # SQLite's type affinity made the edit a no-op
        problems = store.verify_audit()
        assert problems and problems[0].record_id == row_id


@given(entry=entries, record_id=st.integers(1, 2**40))
def test_canonical_is_json_dumps(entry: AuditEntry, record_id: int) -> None:
    ts = 1.5 if entry.ts is None else entry.ts
    params = json.dumps(dict(entry.params), sort_keys=True, separators=(",", ":"))
    expected = json.dumps(
        {"id": record_id, "ts": ts, "actor": entry.actor, "role": Role(entry.role).value,
         "action": entry.action, "target": entry.target, "params": dict(entry.params),
         "result": entry.result, "error": entry.error},
        sort_keys=True, separators=(",", ":"),
    )  # fmt: skip
    got = canonical(record_id, ts, entry.actor, Role(entry.role).value, entry.action,
                    entry.target, params, entry.result, entry.error)  # fmt: skip
    assert got == expected


def test_negative_zero_time_verifies(store: Store) -> None:
    store.append_audit(actor="a", role="viewer", action="b", target="c", params={}, ts=-0.0)
    assert store.verify_audit() == []
