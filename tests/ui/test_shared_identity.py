"""Who hands a change over is who the OS says (issue 10): the process that holds the
embedded fleet takes a request only when a process of the OS user it names announces
it on the holder's socket (SO_PEERCRED). A row forged in the db, announced by another
user or never announced, is refused and audited, and nothing of it is carried out."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from tests.ui.conftest import SIZE, fleet_of
from tests.ui.test_shared_fleet import ENOUGH, connected, db
from vdctui import fleet_serving
from vdctui.fleet_socket import announce, socket_path
from vdctui.model import Role
from vdctui.ops.identity import os_user
from vdctui.store.requests import PENDING, REFUSED, fingerprint
from vdctui.ui.launch import console_app

__all__ = ["db"]  # the fixture


async def answered(store, request_id: int) -> str:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + ENOUGH
    while (request := store.request(request_id)).state == "pending":
        assert time.monotonic() < deadline, "the request was never answered"
        await asyncio.sleep(0.05)
    return str(request.state)


async def listening(db: Path) -> None:
    """Until the holder's request socket listens: it opens it once connected, in its
    own time (an asker that comes earlier announces again until it is heard)."""
    deadline = time.monotonic() + ENOUGH
    while not socket_path(db).exists():
        assert time.monotonic() < deadline, "the holder never opened its request socket"
        await asyncio.sleep(0.05)


async def test_a_request_in_another_users_name_is_refused_and_audited(db: Path) -> None:
    """Announced by this process, a request naming someone else (forged, or a colleague's
    read from the db, digest and all) is refused as this user's attempt, audited, and
    left pending for its own asker (tests/cli/test_identity_across_users.py shows it
    carried out when its asker announces it)."""
    app = console_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await connected(app, pilot)
        await listening(db)
        fleet = fleet_of(app)
        vm = next(n for n, v in sorted(fleet.vms.items()) if v.state == "running")
        store = app.ops.store
        someone_else = "alice" if os_user() != "alice" else "bob"
        forged = store.ask("vm.destroy", vm, {}, someone_else, Role.ADMIN)
        digest = fingerprint(forged, "vm.destroy", vm, {}, someone_else, Role.ADMIN)
        said = await announce(db, forged, digest)  # sent by this process: not alice's
        assert said == (
            f"Request {forged} names {someone_else} as its asker, but {os_user()} sent it; refused."
        )
        assert store.request(forged).state == PENDING  # type: ignore[union-attr]
        assert fleet.vms[vm].state == "running"
        record = app.ops.audit(limit=1)[0]
        assert (record.actor, record.action, record.target, record.result, record.error) == (
            os_user(),
            "vm.destroy",
            vm,
            "refused",
            said,
        )
        mine = store.ask("vm.suspend", vm, {}, os_user(), Role.ADMIN)
        digest = fingerprint(mine, "vm.suspend", vm, {}, os_user(), Role.ADMIN)
        assert await announce(db, mine, digest) == "taken"  # the same in this user's name
        assert await answered(store, mine) == "done"
        assert fleet.vms[vm].state == "paused"


async def test_a_request_nobody_announced_is_refused_and_audited(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fleet_serving, "UNANNOUNCED_S", 0.5)
    app = console_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await connected(app, pilot)
        fleet = fleet_of(app)
        vm = next(n for n, v in sorted(fleet.vms.items()) if v.state == "running")
        store = app.ops.store
        forged = store.ask("vm.destroy", vm, {}, os_user(), Role.ADMIN)  # written, not sent
        assert await answered(store, forged) == REFUSED
        request = store.request(forged)
        assert request is not None and "announced it" in request.error
        assert fleet.vms[vm].state == "running"
        record = next(r for r in app.ops.audit(limit=20) if r.target == vm)
        assert (record.actor, record.result) == ("unknown", "refused")
