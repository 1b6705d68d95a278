"""Who acts is the OS user of the process, across users (issue 10): a process of
`nobody` beside root's `vdctui emulate`, which holds the embedded fleet, in a data center
shared as the README sets it up (setgid 2770, umask 0007). The holder acts for nobody
as nobody, with the role the db gives nobody (a viewer until an admin says otherwise),
whatever a request or the environment claims; each refusal is one sentence, audited as
nobody, and changes nothing. Real processes: the holder, and a forked child as nobody."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import time
from pathlib import Path
from typing import Any

import pytest

import vdctui.fleet_sharing  # noqa: F401  (imported before the child, which cannot read it)
from tests.cli.conftest import Vdctui
from tests.cli.other_users import (
    ENOUGH,
    GROUP,
    as_nobody,
    group_shared_folder,
    holding,
    in_child_as_nobody,
)
from vdctui import fleet_socket
from vdctui.fleet_socket import announce
from vdctui.model import Role
from vdctui.store import Store
from vdctui.store.requests import ANSWERED, fingerprint

pytestmark = pytest.mark.skipif(os.getuid() != 0, reason="needs root to run as another user")

SPOOFED = {"USER": "root", "LOGNAME": "root", "VDCTUI_ROLE": "admin"}


def ask(db: Path, action: str, target: str, actor: str, role: str) -> tuple[int, str]:
    """Write a request in the store as `actor` with `role` (anyone who can write the db
    can): its id and the digest of what it asks."""
    with Store(db) as store:
        request_id = store.ask(action, target, {}, actor, Role(role))
    return request_id, fingerprint(request_id, action, target, {}, actor, Role(role))


def announce_and_wait(db: Path, request_id: int, digest: str) -> dict[str, Any]:
    """Announce a request on the holder's socket from this process; what the holder
    said, and the request's state once answered (or still pending, when the holder
    refused the announcement but not the request)."""
    said = asyncio.run(announce(db, request_id, digest))
    with Store(db) as store:
        deadline = time.monotonic() + ENOUGH
        while (request := store.request(request_id)) is not None and (
            request.state not in ANSWERED and fleet_socket.refusal(said) is None
        ):
            assert time.monotonic() < deadline, "never answered"
            time.sleep(0.05)
        assert request is not None
        return {"said": said, "state": request.state, "error": request.error}


def ask_and_announce(db: Path, action: str, target: str, actor: str, role: str) -> dict[str, Any]:
    """`ask`, then `announce_and_wait`."""
    return announce_and_wait(db, *ask(db, action, target, actor, role))


def state_of(admin: Vdctui, vm: str) -> str:
    return str(next(v for v in admin.json("vm", "list") if v["name"] == vm)["state"])


def newest(admin: Vdctui, vm: str) -> tuple[str, str, str, str]:
    record = next(r for r in admin.json("audit", "list") if r["target"] == vm)
    return record["actor"], record["role"], record["action"], record["result"]


def refusal(err: str) -> str:
    """The refusal among what a command said on stderr: its last line, which must be
    one sentence (what came before it are notes: who holds the fleet, a role lowered)."""
    lines = err.strip().splitlines()
    assert lines and "Traceback" not in err, err
    said = lines[-1].removeprefix("vdctui: ")
    assert said.count(". ") == 0 and said.endswith("."), said  # one sentence
    return said


def build(db: Path) -> tuple[Vdctui, str]:
    """The data center, built by root (its first admin), and a running VM; the imports
    the child needs are warmed by the same commands run here first."""
    admin = Vdctui(db)
    built = admin("emulate", "--hosts", "4", "--vms", "12", "--seed", "3", "--for", "1m")
    assert built.exit_code == 0, built.output
    assert all(p.stat().st_gid == GROUP for p in db.parent.iterdir())
    vm = next(v["name"] for v in admin.json("vm", "list") if v["state"] == "running")
    for args in (["--read-only", "vm", "suspend", vm], ["operator", "list"], ["audit", "list"]):
        admin(*args)
    return admin, vm


def warm_handing_over(admin: Vdctui) -> None:
    """What a change handed to the holder imports, imported here (root's own request)."""
    handed = admin("vm", "suspend", "no-such-vm")
    assert handed.exit_code == 1 and "There is no VM named" in handed.stderr, handed.stderr


def test_another_user_hands_changes_over_through_the_holders_socket() -> None:
    with group_shared_folder() as shared:
        db = shared / "vdctui.db"
        admin, vm = build(db)
        with holding(db) as holder:
            warm_handing_over(admin)
            # nobody is no operator: a viewer; the CLI refuses before it asks the holder
            (viewer,) = as_nobody(db, ["vm", "suspend", vm], groups=[GROUP])
            assert viewer[0] == 1, viewer
            assert len(viewer[2].strip().splitlines()) == 1, viewer  # no note before it
            assert refusal(viewer[2]) == (
                "Suspending a VM needs the operator role; nobody is a viewer (read-only)."
            )
            assert newest(admin, vm) == ("nobody", "viewer", "vm.suspend", "refused")

            # a request of nobody's own claiming the admin role: the holder takes it from
            # nobody's process, acts as nobody with the db's role (viewer), and refuses it
            forged_role = in_child_as_nobody(
                functools.partial(ask_and_announce, db, "vm.suspend", vm, "nobody", "admin"),
                groups=[GROUP],
            )
            assert forged_role["said"] == "taken", forged_role
            assert forged_role["state"] == "refused", forged_role
            assert forged_role["error"] == (
                "Suspending a VM needs the operator role; nobody is a viewer (read-only)."
            )
            assert newest(admin, vm) == ("nobody", "viewer", "vm.suspend", "refused")

            # a request naming root, sent by nobody's process: the socket believes the
            # kernel (SO_PEERCRED), not the name; refused, audited as nobody, and left
            # to root (who never announces it: refused later as never announced)
            claims_root = in_child_as_nobody(
                functools.partial(ask_and_announce, db, "vm.destroy", vm, "root", "admin"),
                groups=[GROUP],
            )
            assert claims_root["state"] == "pending", claims_root
            assert claims_root["said"] == (
                f"Request {claims_root['said'].split()[1]} names root as its asker, but "
                "nobody sent it; refused."
            )
            assert newest(admin, vm) == ("nobody", "viewer", "vm.destroy", "refused")

            # and the other way round: root's process cannot ask in nobody's name
            claims_nobody = ask_and_announce(db, "vm.suspend", vm, "nobody", "operator")
            assert claims_nobody["state"] == "pending"
            assert "names nobody as its asker, but root sent it" in claims_nobody["said"]
            assert newest(admin, vm) == ("root", "admin", "vm.suspend", "refused")
            assert state_of(admin, vm) == "running"  # nothing of it was carried out

            # the admin makes nobody an operator: the holder now carries it out, as nobody
            granted = admin("operator", "set", "nobody", "--role", "operator")
            assert granted.exit_code == 0, granted.output
            (operator,) = as_nobody(db, ["vm", "suspend", vm], groups=[GROUP])
            assert operator[0] == 0, operator
            assert f"{vm}: paused" in operator[1]
            assert "it carries out your changes" in operator[2]
            assert newest(admin, vm) == ("nobody", "operator", "vm.suspend", "ok")
            assert state_of(admin, vm) == "paused"
            with Store(db) as store:
                rows = store._db.execute(
                    "SELECT actor, role, state, taker_pid FROM fleet_requests WHERE "
                    "action = 'vm.suspend' ORDER BY id DESC LIMIT 1"
                ).fetchall()
            assert [tuple(r) for r in rows] == [("nobody", "operator", "done", holder.pid)]
            assert holder.poll() is None


def test_a_colleague_who_announces_your_request_first_does_not_refuse_it() -> None:
    """root reads nobody's pending request in the db (digest and all) and announces it
    first: refused and audited as root's attempt, and nobody's request goes on when
    nobody's own process announces it."""
    with group_shared_folder() as shared:
        db = shared / "vdctui.db"
        admin, vm = build(db)
        granted = admin("operator", "set", "nobody", "--role", "operator")
        assert granted.exit_code == 0, granted.output
        with holding(db):
            warm_handing_over(admin)
            request_id, digest = in_child_as_nobody(
                functools.partial(ask, db, "vm.suspend", vm, "nobody", "operator"),
                groups=[GROUP],
            )
            with Store(db) as store:
                read = store.request(request_id)
            assert read is not None and read.fingerprint() == digest  # all in the db
            first = announce_and_wait(db, request_id, read.fingerprint())
            assert first == {
                "said": f"Request {request_id} names nobody as its asker, but root sent it; "
                "refused.",
                "state": "pending",
                "error": "",
            }
            assert newest(admin, vm) == ("root", "admin", "vm.suspend", "refused")
            assert state_of(admin, vm) == "running"
            own = in_child_as_nobody(
                functools.partial(announce_and_wait, db, request_id, digest), groups=[GROUP]
            )
            assert own == {"said": "taken", "state": "done", "error": ""}, own
            assert newest(admin, vm) == ("nobody", "operator", "vm.suspend", "ok")
            assert state_of(admin, vm) == "paused"


@pytest.mark.parametrize("held", [False, True], ids=["nobody-holds", "root-holds"])
def test_a_spoofed_environment_does_not_make_nobody_root(held: bool) -> None:
    """USER=root LOGNAME=root VDCTUI_ROLE=admin in nobody's environment: still nobody, a
    viewer, refused and audited as nobody; whether nobody's process holds the fleet
    itself or hands its changes to root's."""
    with group_shared_folder() as shared:
        db = shared / "vdctui.db"
        admin, vm = build(db)
        with holding(db) if held else contextlib.nullcontext() as holder:
            if held:
                warm_handing_over(admin)
            suspend, demote, listed = as_nobody(
                db,
                ["vm", "suspend", vm],
                ["operator", "set", "root", "--role", "viewer"],
                ["--json", "operator", "list"],
                groups=[GROUP],
                env=SPOOFED,
            )
            assert suspend[0] == 1, suspend
            assert (
                "VDCTUI_ROLE=admin cannot raise your role: nobody is viewer (an admin sets "
                "roles with `vdctui operator set`)."
            ) in suspend[2]
            assert refusal(suspend[2]) == (
                "Suspending a VM needs the operator role; nobody is a viewer (read-only)."
            )
            assert newest(admin, vm) == ("nobody", "viewer", "vm.suspend", "refused")
            assert demote[0] == 1, demote
            assert refusal(demote[2]).startswith("Setting an operator's role needs the admin")
            assert newest(admin, "root") == ("nobody", "viewer", "operator.set", "refused")
            assert listed[0] == 0, listed
            assert state_of(admin, vm) == "running"
            roles = {o["name"]: o["role"] for o in admin.json("operator", "list")}
            assert roles == {"root": "admin"}  # nobody is listed nowhere: a viewer
            if holder is not None:
                assert holder.poll() is None
