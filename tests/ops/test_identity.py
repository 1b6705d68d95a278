"""Who you are comes from the uid; your role from the store; the environment only lowers."""

from __future__ import annotations

import os
import pwd

import pytest

from vdctui.model import Role
from vdctui.ops import Refused
from vdctui.ops.identity import Identity, os_user


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
