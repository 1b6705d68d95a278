"""The one door: every change is a registered Action with a role; nothing else passes."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import emulator
from tests.conftest import running_vm_on_shared_storage
from vdctui.model import Role
from vdctui.ops import Console, Refused
from vdctui.ops.actions import Action

SOURCE = Path(__file__).resolve().parents[2] / "vdctui"
DOOR = {"change", "record_audit", "require"}


def door_calls() -> list[tuple[str, int, ast.expr]]:
    """(file, line, first argument) of every call of the door anywhere in vdctui."""
    found = []
    for path in sorted(SOURCE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in DOOR
                and node.args
            ):
                found.append((str(path.relative_to(SOURCE)), node.lineno, node.args[0]))
    return found


def test_every_door_call_names_a_registered_action() -> None:
    calls = door_calls()
    assert len(calls) > 20  # the console, HA, balancing, trust and roles all use it
    variables = {"action"}  # a parameter already typed `Action` (mypy checks its callers)
    for file, line, arg in calls:
        if isinstance(arg, ast.Name) and arg.id in variables:
            continue
        if isinstance(arg, ast.Call):  # Action.host_key(verdict)
            assert ast.unparse(arg.func) == "Action.host_key", f"{file}:{line}"
            continue
        branches = [arg.body, arg.orelse] if isinstance(arg, ast.IfExp) else [arg]
        for branch in branches:
            text = ast.unparse(branch)
            assert text.startswith("Action."), f"{file}:{line} passes {text}, not an Action"
            assert getattr(Action, text.removeprefix("Action."), None) in Action, text


def test_every_action_has_a_role_and_one_name() -> None:
    names = [a.id for a in Action]
    assert len(names) == len(set(names))
    for action in Action:
        assert isinstance(action.role, Role)
        assert action.what and action.id == action.id.strip().lower()
        assert Action.named(action.id) is action
    assert Action.named("vm.teleport") is None


async def test_an_unknown_action_is_refused_not_treated_as_admin(console: Console) -> None:
    ran: list[bool] = []

    async def work() -> None:
        ran.append(True)

    with pytest.raises(Refused, match="not a change"):
        await console.change("vm.teleport", "web-1", {}, work)  # type: ignore[arg-type]
    assert ran == []
    record = console.audit(limit=1)[0]
    assert (record.action, record.result) == ("unknown:vm.teleport", "refused")


async def test_a_record_is_not_a_change(console: Console) -> None:
    async def work() -> None:
        raise AssertionError("must not run")

    with pytest.raises(Refused):
        await console.change(Action.VM_MIGRATE_END, "web-1", {}, work)


async def test_the_role_is_checked_before_the_work(console: Console, fleet: emulator.Fleet) -> None:
    from dataclasses import replace

    console.identity = replace(console.identity, role=Role.OPERATOR)
    ran: list[bool] = []

    async def work() -> None:
        ran.append(True)

    with pytest.raises(Refused, match="needs the admin role; alice is an operator"):
        await console.change(Action.POOL_CREATE, "gold", {}, work)
    assert ran == []
    assert console.audit(limit=1)[0].result == "refused"
    name = running_vm_on_shared_storage(fleet)
    await console.stop_vm(name)  # an operator may
