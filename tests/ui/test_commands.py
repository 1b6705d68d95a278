from __future__ import annotations

from vdctui.ui.commands import COMMANDS


def test_arguments_complete_to_the_right_kind() -> None:
    migrate, start, create = COMMANDS["migrate"], COMMANDS["start"], COMMANDS["create"]
    assert [migrate.completes_at(i) for i in range(3)] == ["vm", "host", ""]
    assert [start.completes_at(i) for i in range(3)] == ["vm", "vm", "vm"]
    assert [create.completes_at(i) for i in range(4)] == ["", "flavor", "pool", ""]
