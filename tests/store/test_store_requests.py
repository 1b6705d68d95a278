"""Requests to the process that holds the embedded fleet: taken once, withdrawn once,
never both (vdctui.store.requests)."""

from __future__ import annotations

from pathlib import Path

from vdctui.model import Role
from vdctui.store import Store
from vdctui.store.requests import DONE, TAKEN, WITHDRAWN


def test_a_request_is_taken_once_and_then_cannot_be_withdrawn(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    with Store(db) as asker, Store(db) as holder, Store(db) as other:
        first = asker.ask("vm.stop", "web-001", {}, "alice", Role.OPERATOR)
        second = asker.ask("vm.start", "web-002", {}, "alice", Role.OPERATOR)
        assert holder.has_pending_requests()
        taken = holder.take_request()
        assert taken is not None and (taken.id, taken.state) == (first, TAKEN)
        assert taken.role is Role.OPERATOR and taken.taker_alive()
        assert not asker.withdraw_request(first)  # taken: it will be answered
        assert asker.withdraw_request(second)  # nobody took it: withdrawn, once
        assert not asker.withdraw_request(second)
        assert other.take_request() is None  # nothing left to take
        holder.answer_request(first, DONE, answer={"vms": ["web-001"]})
        done = asker.request(first)
        assert done is not None and done.state == DONE and done.answer == {"vms": ["web-001"]}
        withdrawn = asker.request(second)
        assert withdrawn is not None and withdrawn.state == WITHDRAWN
        assert not holder.has_pending_requests()


def test_the_taker_is_gone_once_its_store_is_closed(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    with Store(db) as asker:
        request_id = asker.ask("vm.stop", "web-001", {}, "alice", Role.OPERATOR)
        holder = Store(db)
        assert holder.take_request() is not None
        holder.close()  # this process's session of it ended (as a process that died)
        request = asker.request(request_id)
        assert request is not None and request.state == TAKEN and not request.taker_alive()
        assert asker.request(request_id + 1) is None
