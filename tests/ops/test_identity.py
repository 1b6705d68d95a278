"""Who you are comes from the uid; your role from the store; the environment only lowers."""

from __future__ import annotations

import os
import pwd

import pytest

import emulator
from vdctui.model import Role
from vdctui.ops import Console, Refused
from vdctui.ops.actions import Action
from vdctui.ops.identity import Identity, os_user
from vdctui.ops.requests import perform
from vdctui.store.requests import TAKEN, FleetRequest


def roles(**given: Role):  # type: ignore[no-untyped-def]
    return lambda name: given.get(name)


ME = pwd.getpwuid(os.getuid()).pw_name


def test_the_actor_is_the_uid_not_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOGNAME", "mallory")
    monkeypatch.setenv("USER", "mallory")
    assert os_user() == ME
    assert Identity.of_process(roles()).actor == ME


def test_a_user_not_listed_is_a_viewer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VDCTUI_ROLE", raising=False)
    assert Identity.of_process(roles()).role is Role.VIEWER
    assert Identity.of_process(roles(**{ME: Role.OPERATOR})).role is Role.OPERATOR


def test_the_environment_lowers_but_never_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VDCTUI_ROLE", "viewer")
    assert Identity.of_process(roles(**{ME: Role.ADMIN})).role is Role.VIEWER
    monkeypatch.setenv("VDCTUI_ROLE", "admin")
    raised = Identity.of_process(roles(**{ME: Role.OPERATOR}))
    assert raised.role is Role.OPERATOR
    assert "cannot raise your role" in raised.note
    assert Identity.of_process(roles()).role is Role.VIEWER
    monkeypatch.setenv("VDCTUI_ROLE", "root")
    with pytest.raises(Refused, match="not a role"):
        Identity.of_process(roles(**{ME: Role.ADMIN}))


def test_read_only_and_an_unwritable_store_make_a_viewer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("VDCTUI_ROLE", raising=False)
    admin = roles(**{ME: Role.ADMIN})
    assert Identity.of_process(admin, read_only=True) == Identity(ME, Role.VIEWER)
    locked = Identity.of_process(admin, writable=False, where="/srv/vdc/vdctui.db")
    assert locked.role is Role.VIEWER
    assert "cannot write /srv/vdc/vdctui.db" in locked.note and "read-only" in locked.note


A_ROLE = {Role.VIEWER: "a viewer (read-only)", Role.OPERATOR: "an operator", Role.ADMIN: "an admin"}


def refusal(identity: Identity, action: Action) -> str:
    with pytest.raises(Refused) as refused:
        identity.check(action)
    return str(refused.value)


def test_a_refusal_by_role_names_who_and_their_role_wherever_it_is_said() -> None:
    """One wording, true in the asker's own process and in the process that holds the
    fleet acting for it: who, their role in the operator's words; never "this console"
    (the holder's is not read-only), one sentence."""
    for action in (a for a in Action if a.is_change):
        for role in (r for r in Role if not r.allows(action.role)):
            said = refusal(Identity("carol", role), action)
            assert said == f"{action.what} needs the {action.role} role; carol is {A_ROLE[role]}."
            assert said.count(". ") == 0 and "this console" not in said, said


async def test_the_holder_refuses_in_the_words_of_the_askers_own_door(
    console: Console, fleet: emulator.Fleet
) -> None:
    """A request whose asker the db makes a viewer (whatever role it claims), refused by
    the process that holds the fleet: the same sentence as the asker's own door says."""
    vm = next(n for n, v in sorted(fleet.vms.items()) if v.state == "running")
    for action, params in ((Action.VM_SUSPEND, {}), (Action.VM_RESIZE, {"vcpus": 1})):
        request = FleetRequest(
            1, action.id, vm, {"memory_mib": None, **params}, "carol", Role.ADMIN,
            0.0, TAKEN, {}, "", None, None, None, None, None,
        )  # fmt: skip
        with pytest.raises(Refused) as refused:
            await perform(console, request)
        assert str(refused.value) == refusal(Identity("carol", Role.VIEWER), action)
    assert fleet.vms[vm].state == "running"
