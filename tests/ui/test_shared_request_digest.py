"""A request is carried out only as its asker asked it (issue 10). Anyone in the data
center's group can write the db, so between the asker's write and the holder's take
they can rewrite another user's pending request: its action, its target, its arguments,
who asks, with what role. The asker announces on the holder's socket a digest of what
it asked; the holder carries out only a row that matches it, and refuses (audited, one
sentence to the asker) one that does not. (An announcement of someone else's pending
request: tests/ui/test_shared_identity.py.)

Real processes: a console (Pilot) holds the fleet; the asker is a `vdctui` process; the
rewrite is made in the store between the two, as a member of the group can."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import pytest

from tests.ui.conftest import SIZE, fleet_of
from tests.ui.processes import started
from tests.ui.test_shared_fleet import ENOUGH, connected, db
from tests.ui.test_shared_operations import wait_for_state
from vdctui.model import Role
from vdctui.ops.identity import os_user
from vdctui.ops.requests import perform
from vdctui.store.base import to_json
from vdctui.store.requests import FINGERPRINTED, PENDING, FleetRequest, fingerprint
from vdctui.ui.launch import console_app

__all__ = ["db"]  # the fixture

SOMEONE_ELSE = "alice" if os_user() != "alice" else "bob"


@dataclass(frozen=True)
class Rewrite:
    """A command whose pending request a group member rewrites: one column, set to a
    value that would make the holder do something else in the asker's name."""

    column: str
    command: tuple[str, ...]  # VM and OTHER stand for two running VMs
    value: str  # the column's new value (VM, OTHER replaced)


REWRITES = [
    Rewrite("action", ("vm", "suspend", "VM"), "vm.destroy"),
    Rewrite("target", ("vm", "suspend", "VM"), "OTHER"),
    Rewrite("params", ("vm", "resize", "VM", "--vcpus", "1"), '{"memory_mib":null,"vcpus":2}'),
    Rewrite("actor", ("vm", "suspend", "VM"), SOMEONE_ELSE),
    Rewrite("role", ("vm", "suspend", "VM"), Role.VIEWER.value),
]


def test_every_field_the_holder_acts_on_is_rewritten_here() -> None:
    assert {r.column for r in REWRITES} == set(FINGERPRINTED) - {"id"}


@pytest.mark.parametrize("rewrite", REWRITES, ids=lambda r: r.column)
async def test_a_request_rewritten_before_the_holder_takes_it_is_refused(
    db: Path, rewrite: Rewrite
) -> None:
    app = console_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await connected(app, pilot)
        fleet = fleet_of(app)
        vm, other = [n for n, v in sorted(fleet.vms.items()) if v.state == "running"][:2]
        vcpus = fleet.vms[vm].vcpus
        store = app.ops.store
        server = app.ops.driver.server  # type: ignore[attr-defined]
        await server.stop()  # the holder hears nothing until the row is rewritten
        names = {"VM": vm, "OTHER": other}
        proc = await started("--db", str(db), *(names.get(a, a) for a in rewrite.command))
        request_id = await wait_for_state(store, PENDING, proc)
        with store._db.atomic():  # a member of the group, in the db
            store._db.execute(
                f"UPDATE fleet_requests SET {rewrite.column} = ? WHERE id = ?",
                [names.get(rewrite.value, rewrite.value), request_id],
            )
        server.start()
        out, err = await asyncio.wait_for(proc.communicate(), ENOUGH)
        said = err.decode().strip().splitlines()[-1].removeprefix("vdctui: ")
        assert proc.returncode == 1 and b"Traceback" not in err, (out, err)
        assert said.count(". ") == 0 and said.endswith("; refused."), said  # one sentence
        if rewrite.column == "actor":
            assert f"names {SOMEONE_ELSE} as its asker, but {os_user()} sent it" in said
        else:
            assert said == (
                f"Request {request_id} is not what {os_user()} asked (it was changed in "
                "the store after it was written); refused."
            )
        assert (fleet.vms[vm].state, fleet.vms[other].state) == ("running", "running")
        assert fleet.vms[vm].vcpus == vcpus
        record = app.ops.audit(limit=1)[0]
        assert (record.actor, record.result, record.error) == (os_user(), "refused", said)
        assert store.request(request_id).state != PENDING  # type: ignore[union-attr]


def test_the_digest_covers_every_field_it_names() -> None:
    asked: dict[str, Any] = {
        "id": 7,
        "action": "vm.resize",
        "target": "web-001",
        "params": {"vcpus": 2, "memory_mib": None},
        "actor": "carol",
        "role": Role.OPERATOR,
    }
    other: dict[str, Any] = {
        "id": 8,
        "action": "vm.destroy",
        "target": "web-002",
        "params": {"vcpus": 3, "memory_mib": None},
        "actor": "mallory",
        "role": Role.ADMIN,
    }
    digest = fingerprint(**asked)
    assert fingerprint(**{**asked, "params": {"memory_mib": None, "vcpus": 2}}) == digest
    for name in FINGERPRINTED:
        assert fingerprint(**{**asked, name: other[name]}) != digest, name
    # the asker's values as the store writes them (a tuple becomes a list)
    assert fingerprint(**{**asked, "params": {"pair": (1, 2)}}) == fingerprint(
        **{**asked, "params": {"pair": [1, 2]}}
    )


class Watched:
    """A request whose every field the holder reads is noted."""

    def __init__(self, request: FleetRequest) -> None:
        self._request = request
        self.read: set[str] = set()

    def __getattr__(self, name: str) -> Any:
        if name in {f.name for f in fields(FleetRequest)}:
            self.read.add(name)
        return getattr(self._request, name)


@pytest.mark.parametrize(
    ("action", "params"),
    [
        ("vm.suspend", {}),
        ("vm.resize", {"vcpus": 1, "memory_mib": None}),
        ("vdctui.ops.config.domain_xml", {"vm": "VM"}),
        ("vdctui.ops.snapshots.create_snapshot", {"vm": "VM", "name": "before"}),
    ],
)
async def test_the_holder_acts_only_on_fields_the_digest_covers(
    console: Any, fleet: Any, action: str, params: dict[str, Any]
) -> None:
    vm = next(n for n, v in sorted(fleet.vms.items()) if v.state == "running")
    params = {k: vm if v == "VM" else v for k, v in params.items()}
    request = FleetRequest(
        1, action, vm, params, "alice", Role.ADMIN, 0.0, "taken", {}, "", None, *[None] * 4
    )
    console.store.set_operator_role("alice", Role.ADMIN, actor="root")
    watched = Watched(request)
    await perform(console, watched)  # type: ignore[arg-type]
    assert watched.read, "the holder read nothing of the request"
    assert watched.read <= set(FINGERPRINTED), watched.read - set(FINGERPRINTED)
    assert to_json(request.params) == to_json(params)
