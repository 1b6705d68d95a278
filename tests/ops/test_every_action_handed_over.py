"""Every change of the ops door works beside a process that holds the embedded fleet
(issue 10): it is handed over (a door action the holder carries out, CARRIED, or one a
registered fleet operation carries out), or it writes the store alone (STORE_ONLY), or it
is said not to be, with why (NOT_HANDED_OVER). A new action, or a new ops function that
enters the door, that is none of these fails here: forgotten, it would wait for the fleet
beside a console and then refuse."""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

from vdctui.ops import handover
from vdctui.ops.actions import Action
from vdctui.ops.requests import CARRIED, NOT_HANDED_OVER, STORE_ONLY

ROOT = Path(__file__).resolve().parents[2]
# door entries in functions that are steps of a fleet operation, never called alone
STEPS = {
    ("vdctui.ops.waking", "wake"): "vdctui.ops.balancing.apply_moves",
    ("vdctui.ops.waking", "power_off_emptied"): "vdctui.ops.balancing.apply_moves",
}


def operations() -> dict[str, handover.Operation]:
    for module in handover.MODULES:
        importlib.import_module(module)
    return handover.OPERATIONS


def by_operations() -> set[Action]:
    return {action for op in operations().values() for action in op.actions}


def test_every_change_is_handed_over_store_only_or_said_why_not() -> None:
    handed = CARRIED | by_operations()
    forgotten = [
        a.id
        for a in Action
        if a.is_change and a not in handed and a not in STORE_ONLY and a not in NOT_HANDED_OVER
    ]
    assert forgotten == [], f"neither handed over nor said not to need the fleet: {forgotten}"
    assert not (STORE_ONLY | set(NOT_HANDED_OVER)) & handed
    assert not STORE_ONLY & set(NOT_HANDED_OVER)
    assert all(why for why in NOT_HANDED_OVER.values())
    records = [a.id for a in handed | STORE_ONLY | set(NOT_HANDED_OVER) if not a.is_change]
    assert records == [], "a record (not a change) is never handed over"


def _source(op: handover.Operation) -> str:
    """The operation's module, but the lines that mark its operations."""
    module = inspect.getmodule(op.fn)
    assert module is not None
    lines = inspect.getsource(module).splitlines()
    return "\n".join(line for line in lines if not line.lstrip().startswith("@fleet_operation"))


def test_an_operation_names_only_actions_its_module_enters() -> None:
    """Its module enters the action, or it calls another operation that does (an alert's
    quarantine is a VM's)."""
    ops = operations().values()
    for op in ops:
        for action in op.actions:
            modules = [_source(op)] + [_source(o) for o in ops if action in o.actions]
            assert any(f"Action.{action.name}" in m for m in modules), (op.name, action.id)


def _door_entries() -> list[tuple[str, str, str]]:
    """(module, function or Class.method, action) of each `….change(Action.X, …)` in vdctui:
    the function being the outermost one (a nested `work` belongs to its function)."""
    found = []
    for path in sorted((ROOT / "vdctui").rglob("*.py")):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)

        def visit(node: ast.AST, outer: tuple[str, ...], module: str = module) -> None:
            """`outer`: the module-level function, or the class and its method, it is in."""
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                    in_class = len(outer) == 1 and outer[0][:1].isupper()
                    visit(child, (*outer, child.name) if not outer or in_class else outer)
                    continue
                if (
                    isinstance(child, ast.Call)
                    and isinstance(child.func, ast.Attribute)
                    and child.func.attr == "change"
                    and child.args
                    and isinstance(child.args[0], ast.Attribute)
                    and isinstance(child.args[0].value, ast.Name)
                    and child.args[0].value.id == "Action"
                ):
                    found.append((module, ".".join(outer), child.args[0].attr))
                visit(child, outer)

        visit(ast.parse(path.read_text()), ())
    return found


def test_every_function_that_enters_the_door_with_a_fleet_change_is_a_fleet_operation() -> None:
    ops = {(op.fn.__module__, op.fn.__qualname__): op for op in operations().values()}
    entries = _door_entries()
    assert len(entries) > 20  # the walk finds the door's callers
    wrong = []
    for module, function, name in entries:
        action = Action[name]
        if action in CARRIED or action in STORE_ONLY or action in NOT_HANDED_OVER:
            continue
        if function.rpartition(".")[2].startswith("_") or (module, function) in STEPS:
            continue  # a private step: its public caller is checked
        op = ops.get((module, function))
        if op is None or action not in op.actions:
            wrong.append(f"{module}.{function} enters {action.id}")
    assert wrong == [], "not a fleet operation carrying out that action: " + "; ".join(wrong)


def test_a_forgotten_action_or_operation_is_caught() -> None:
    """The checks above see what they must: a door entry outside any operation."""
    entries = _door_entries()
    assert ("vdctui.ops.config", "set_autostart", "VM_AUTOSTART") in entries
    assert ("vdctui.ops.console", "Console.resize_vm", "VM_RESIZE") in entries
    assert ("vdctui.ops.ha", "confirm_down", "HA_CONFIRM_DOWN") in entries
    assert Action.VM_AUTOSTART in by_operations()


def test_an_operation_of_several_actions_says_which_one_a_call_enters() -> None:
    """So that its role is checked before anything is asked of the holder (a refused
    change writes no request row: tests/cli/test_every_command_beside_a_holder.py)."""
    try:
        handover.fleet_operation(Action.SERVICE_DRAIN, Action.SERVICE_ENABLE)
    except TypeError as exc:
        assert "door" in str(exc)
    else:
        raise AssertionError("an operation of several actions without `door` was taken")
    several = [op for op in operations().values() if len(op.actions) > 1]
    assert several and all(op.door is not None for op in several)
