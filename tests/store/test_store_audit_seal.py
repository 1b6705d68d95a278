"""Forward-secure sealing: tampering that recomputes the chain is still found with the key."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.store import tamper
from tests.store.conftest import FakeClock
from vdctui.model import AuditCheck, Role
from vdctui.store import AuditEntry, Store, StoreError
from vdctui.store.seal import SealKey

EPOCH = 900.0


def add(store: Store, n: int, actor: str = "alice") -> None:
    store.append_audit_many(
        AuditEntry(actor=actor, role=Role.OPERATOR, action="vm.start", target=f"vm-{i}",
                   params={"i": i})
        for i in range(n)
    )  # fmt: skip


@pytest.fixture
def sealed(db_path: Path, clock: FakeClock) -> Iterator[tuple[Store, str, sqlite3.Connection]]:
    """A file store with 3 unsealed records, then sealed, then 3 epochs of 4 records
    each and 2 records in the current (open) epoch: records 1–3 before the seal,
    4–7, 8–11, 12–15 sealed and closed, 16–17 open."""
    store = Store(db_path, clock=clock)
    add(store, 3, "before")
    key = store.seal_audit(epoch_s=EPOCH)
    for _ in range(3):
        add(store, 4)
        clock.advance(EPOCH)
    add(store, 2)
    conn = sqlite3.connect(db_path)
    yield store, key, conn
    conn.close()
    store.close()


def problems_of(check: AuditCheck) -> list[int]:
    return [p.record_id for p in check.problems]


def test_an_untouched_sealed_log_verifies_with_its_key(sealed: tuple[Store, str, object]) -> None:
    store, key, _ = sealed
    check = store.check_audit(key=key)
    assert check.problems == [] and check.seal_checked and check.records == 17
    assert any("16–17" in note and "current epoch" in note for note in check.notes)
    assert any("1–3" in note and "before the seal" in note for note in check.notes)


def test_without_the_key_the_chain_is_checked_and_the_seal_is_said_unchecked(
    sealed: tuple[Store, str, object],
) -> None:
    store, _, _ = sealed
    check = store.check_audit()
    assert check.problems == [] and not check.seal_checked
    assert any("seal was not checked" in note for note in check.notes)


def test_a_rewrite_with_the_chain_recomputed_passes_the_chain_but_not_the_seal(
    sealed: tuple[Store, str, sqlite3.Connection],
) -> None:
    store, key, conn = sealed
    tamper.rewrite(conn, 9, actor="mallory")
    assert store.verify_audit() == []  # the chain alone cannot tell
    check = store.check_audit(key=key)
    assert 9 in problems_of(check)
    named = [p for p in check.problems if p.record_id == 9]
    assert "rewritten" in named[0].problem
    # no other record is said rewritten: only the chain's hashes moved after it
    assert not any("record" in p.problem and p.record_id not in (9, 11, 15) for p in check.problems)


def test_a_rewrite_of_a_record_from_before_the_seal_is_found(
    sealed: tuple[Store, str, sqlite3.Connection],
) -> None:
    store, key, conn = sealed
    tamper.rewrite(conn, 2, result="ok", actor="someone-else")
    assert store.verify_audit() == []
    check = store.check_audit(key=key)
    assert check.problems and check.problems[0].record_id == 3
    assert "before the seal" in check.problems[0].problem


def test_delete_and_renumber_is_found(sealed: tuple[Store, str, sqlite3.Connection]) -> None:
    store, key, conn = sealed
    tamper.delete_and_renumber(conn, 6)
    assert store.verify_audit() == []
    bad = problems_of(store.check_audit(key=key))
    assert {6, 7}.issubset(bad)  # the renumbered records of that epoch no longer hold


def test_an_emptied_log_is_found(sealed: tuple[Store, str, sqlite3.Connection]) -> None:
    store, key, conn = sealed
    tamper.empty(conn)
    assert store.verify_audit() == []
    check = store.check_audit(key=key)
    assert check.problems and check.records == 0


def test_a_log_emptied_with_its_seal_is_found(
    sealed: tuple[Store, str, sqlite3.Connection],
) -> None:
    store, key, conn = sealed
    for table in ("audit", "audit_seals", "audit_seal_key", "audit_seal_tags"):
        conn.execute(f"DELETE FROM {table}")
    tamper.empty(conn)
    check = store.check_audit(key=key)
    assert len(check.problems) == 1 and "no seal made with this key" in check.problems[0].problem


def test_a_truncated_closed_epoch_is_found(sealed: tuple[Store, str, sqlite3.Connection]) -> None:
    store, key, conn = sealed
    # remove the last two records of the second epoch and all after, fix the head
    conn.execute("DELETE FROM audit WHERE id >= 10")
    tamper.rechain(conn)
    check = store.check_audit(key=key)
    assert check.problems
    assert any("missing" in p.problem for p in check.problems)


def test_an_unsealed_record_inserted_in_a_sealed_range_is_found(
    sealed: tuple[Store, str, sqlite3.Connection],
) -> None:
    store, key, conn = sealed
    conn.execute("UPDATE audit SET seal = NULL, seal_epoch = NULL WHERE id = 5")
    conn.commit()
    assert 5 in problems_of(store.check_audit(key=key))


def test_the_current_epoch_is_not_protected_against_the_live_key(
    sealed: tuple[Store, str, sqlite3.Connection],
) -> None:
    """Said plainly in the README: whoever holds the machine now holds the live key."""
    store, key, conn = sealed
    live = conn.execute("SELECT key, epoch, seal_id FROM audit_seal_key").fetchone()
    tamper.rewrite(conn, 17, actor="mallory")
    text = conn.execute(
        "SELECT id, ts, actor, role, action, target, params, result, error FROM audit WHERE id = 17"
    ).fetchone()
    from vdctui.store.audit import canonical
    from vdctui.store.seal import record_seal

    conn.execute(
        "UPDATE audit SET seal = ? WHERE id = 17",
        [record_seal(live[0], live[2], live[1], canonical(*text))],
    )
    conn.commit()
    check = store.check_audit(key=key)
    assert check.problems == []
    assert any("current epoch" in note for note in check.notes)


def test_the_old_epoch_key_is_erased_from_the_file(db_path: Path, clock: FakeClock) -> None:
    store = Store(db_path, clock=clock)
    key = SealKey.parse(store.seal_audit(epoch_s=EPOCH))
    add(store, 5)
    clock.advance(EPOCH)
    add(store, 1)  # the epoch ends: K0 is replaced by K1
    blob = b"".join(p.read_bytes() for p in db_path.parent.iterdir() if p.is_file())
    assert key.initial not in blob and key.initial.hex().encode() not in blob
    store.close()


def test_the_key_evolves_when_the_store_opens_after_a_quiet_epoch(
    db_path: Path, clock: FakeClock
) -> None:
    with Store(db_path, clock=clock) as store:
        key = store.seal_audit(epoch_s=EPOCH)
        add(store, 2)
    clock.advance(3 * EPOCH + 1)
    with Store(db_path, clock=clock) as store:
        assert store.audit_seal().epoch == 3
        add(store, 1)
        assert store.check_audit(key=key).problems == []


def test_epochs_that_ended_empty_are_followed(db_path: Path, clock: FakeClock) -> None:
    """Opened (key evolved) in epochs 3 and 5 without a write; records again in 7."""
    with Store(db_path, clock=clock) as store:
        key = store.seal_audit(epoch_s=EPOCH)
        add(store, 2)
    for epoch in (3, 5):
        clock.now += (epoch * EPOCH + 1) - (clock.now - int(SealKey.parse(key).started))
        Store(db_path, clock=clock).close()
    clock.advance(2 * EPOCH)
    with Store(db_path, clock=clock) as store:
        add(store, 1)
        tags = store._db.execute(
            "SELECT epoch, next_epoch FROM audit_seal_tags ORDER BY epoch"
        ).fetchall()
        assert tags == [(-1, 0), (0, 3), (3, 5), (5, 7)]
        assert store.check_audit(key=key).problems == []
        store._db.execute("DELETE FROM audit_seal_tags WHERE epoch = 3")
        problems = store.check_audit(key=key).problems
        assert "epoch 3 has no closing seal" in problems[0].problem


def test_a_reinitialized_seal_is_found_with_the_old_key(
    sealed: tuple[Store, str, object], clock: FakeClock
) -> None:
    store, key, _ = sealed
    with pytest.raises(StoreError, match="already sealed"):
        store.seal_audit(epoch_s=EPOCH)
    new_key = store.seal_audit(epoch_s=EPOCH, replace=True)
    add(store, 3)
    old = store.check_audit(key=key)
    assert len(old.problems) == 1 and "replaced" in old.problems[0].problem
    assert old.problems[0].record_id == 18
    assert store.check_audit(key=new_key).problems == []


def test_a_wrong_key_is_named(sealed: tuple[Store, str, object]) -> None:
    store, key, _ = sealed
    parsed = SealKey.parse(key)
    other = SealKey(bytes(32), parsed.started, parsed.epoch_s, parsed.first_id)
    check = store.check_audit(key=other.text())
    assert len(check.problems) == 1 and "no seal made with this key" in check.problems[0].problem
    with pytest.raises(StoreError, match="not a vdctui seal key"):
        store.check_audit(key="hunter2")


def test_an_empty_log_sealed_at_once_verifies(store: Store) -> None:
    key = store.seal_audit(epoch_s=EPOCH)
    assert store.check_audit(key=key).problems == []


def test_a_removed_seal_shows_even_without_the_key(
    sealed: tuple[Store, str, sqlite3.Connection],
) -> None:
    """Deleting the live key unseals what comes after; the seals' history still says so."""
    store, key, conn = sealed
    conn.execute("DELETE FROM audit_seal_key")
    conn.commit()
    add(store, 2)  # written unsealed now
    check = store.check_audit()
    assert [p.record_id for p in check.problems] == [18]
    assert "not sealed" in check.problems[0].problem
    assert {18, 19}.issubset(problems_of(store.check_audit(key=key)))


def test_seal_verification_stops_after_max_problems(
    sealed: tuple[Store, str, sqlite3.Connection],
) -> None:
    store, key, conn = sealed
    conn.execute("UPDATE audit SET actor = 'x' WHERE id >= 4")
    tamper.rechain(conn)
    check = store.check_audit(key=key, max_problems=3)
    assert [p.record_id for p in check.problems] == [4, 5, 6, 7]
    assert "stopped at record 7" in check.problems[-1].problem


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    sizes=st.lists(st.integers(1, 4), min_size=2, max_size=4),
    data=st.data(),
)
def test_any_rewrite_of_a_closed_epoch_is_named_with_the_key(
    sizes: list[int], data: st.DataObject
) -> None:
    """Whatever record of an ended epoch is changed, in whatever column, with the chain
    recomputed or not, the key names that record."""
    clock = FakeClock()
    with Store(":memory:", clock=clock) as store:
        key = store.seal_audit(epoch_s=EPOCH)
        for size in sizes:
            add(store, size)
            clock.advance(EPOCH)
        add(store, 1)  # the open epoch
        closed = sum(sizes)
        row_id = data.draw(st.integers(1, closed), label="row")
        column = data.draw(
            st.sampled_from(["ts", "actor", "role", "action", "target", "params", "result",
                             "error"]), label="column",
        )  # fmt: skip
        new = data.draw(st.sampled_from(["mallory", "admin", '{"i":99}', "ok", 1.5]), label="new")
        conn = store._db.conn
        old = conn.execute(f"SELECT {column} FROM audit WHERE id = ?", [row_id]).fetchone()[0]
        conn.execute(f"UPDATE audit SET {column} = ? WHERE id = ?", [new, row_id])
        stored = conn.execute(f"SELECT {column} FROM audit WHERE id = ?", [row_id]).fetchone()[0]
        if stored == old:
            return  # the same value (or SQLite's affinity made it so): nothing changed
        if data.draw(st.booleans(), label="rechain") and not (column == "ts" and new != 1.5):
            tamper.rechain(conn)  # (a time that is not a number cannot be hashed at all)
        assert row_id in problems_of(store.check_audit(key=key))
