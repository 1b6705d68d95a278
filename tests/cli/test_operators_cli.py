"""`vdctui operator list|set` and roles from the store, not the environment."""

from __future__ import annotations

import os
import pwd

import pytest

from tests.cli.conftest import Vdctui

ME = pwd.getpwuid(os.getuid()).pw_name


def test_the_creator_is_admin_and_sets_roles(vdctui: Vdctui) -> None:
    assert [(o["name"], o["role"]) for o in vdctui.json("operator", "list")] == [(ME, "admin")]
    result = vdctui("operator", "set", "nobody", "--role", "operator")
    assert result.exit_code == 0, result.output
    assert "nobody is operator" in result.stdout
    listed = {o["name"]: o for o in vdctui.json("operator", "list")}
    assert listed["nobody"]["role"] == "operator" and listed["nobody"]["set_by"] == ME
    record = vdctui.json("audit", "list")[0]
    assert (record["action"], record["target"], record["result"]) == (
        "operator.set",
        "nobody",
        "ok",
    )


def test_roles_are_checked_where_they_enter(vdctui: Vdctui) -> None:
    result = vdctui("operator", "set", "no-such-user-here", "--role", "admin")
    assert result.exit_code == 1 and "no user named" in result.stderr
    result = vdctui("operator", "set", ME, "--role", "viewer")
    assert result.exit_code == 1 and "last admin" in result.stderr
    result = vdctui("operator", "set", "nobody", "--role", "root")
    assert result.exit_code == 2


def test_a_viewer_cannot_give_roles(vdctui: Vdctui) -> None:
    result = vdctui("operator", "set", "nobody", "--role", "admin", read_only=True)
    assert result.exit_code == 1 and "read-only" in result.stderr
    assert [o["name"] for o in vdctui.json("operator", "list")] == [ME]
    assert vdctui.json("audit", "list")[0]["result"] == "refused"


def test_the_environment_cannot_raise_a_role(
    vdctui: Vdctui, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A user the store does not list is a viewer, whatever $VDCTUI_ROLE or $USER say."""
    monkeypatch.setattr("vdctui.ops.identity.os_user", lambda: "nobody")
    monkeypatch.setenv("VDCTUI_ROLE", "admin")
    monkeypatch.setenv("USER", ME)
    monkeypatch.setenv("LOGNAME", ME)
    result = vdctui("operator", "set", "nobody", "--role", "admin")
    assert result.exit_code == 1
    assert "cannot raise your role" in result.stderr and "read-only" in result.stderr
    record = vdctui.json("audit", "list")[0]
    assert (record["actor"], record["role"], record["result"]) == ("nobody", "viewer", "refused")
