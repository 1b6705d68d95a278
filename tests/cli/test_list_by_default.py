"""A command that became a group keeps its old command line: `vdctui task --active` is
`vdctui task list --active`, as it was before `task cancel` made `task` a group. Every
group that lists when given no command takes the listing's options without its name."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest

from tests.cli.conftest import Vdctui
from tests.cli.test_cli import running_vm
from tests.cli.test_lazy_commands import every_command
from vdctui.cli.main import main


@pytest.fixture(scope="module")
def built_db(built_db: Path) -> Path:
    """The module's data center, with a task to list: a migration."""
    cli = Vdctui(built_db)
    vm = running_vm(cli)
    for host in cli.json("host", "list"):
        moved = host["name"] != vm["host"] and cli(
            "vm", "migrate", vm["name"], "--to", host["name"]
        )
        if moved and moved.exit_code == 0:
            return built_db
    raise AssertionError("no migration succeeded")


@pytest.mark.parametrize(
    ("without", "with_list"),
    [
        (("task", "--active"), ("task", "list", "--active")),
        (("task", "--limit", "2"), ("task", "list", "--limit", "2")),
        (("task", "--active", "--limit", "2"), ("task", "list", "--active", "--limit", "2")),
        (("task", "--limit", "1", "--json"), ("task", "list", "--limit", "1", "--json")),
        (("task", "--json", "--limit", "1"), ("task", "list", "--limit", "1", "--json")),
        (("task",), ("task", "list")),
        (("task", "--json"), ("task", "list", "--json")),
        (("pool",), ("pool", "list")),
        (("operator",), ("operator", "list")),
    ],
)
def test_the_listing_s_options_without_its_name(
    vdctui: Vdctui, without: tuple[str, ...], with_list: tuple[str, ...]
) -> None:
    listed = vdctui(*with_list)
    assert listed.exit_code == 0, listed.output
    result = vdctui(*without)
    assert result.exit_code == 0, result.output
    assert result.stdout == listed.stdout


def test_json_before_the_group_and_the_listing_s_option_after_it(vdctui: Vdctui) -> None:
    tasks = json.loads(vdctui("--json", "task", "--limit", "1").stdout)
    assert len(tasks) == 1 and tasks[0]["kind"] == "migrate"
    assert json.loads(vdctui("--json", "task", "--active").stdout) == []  # it ended


def test_a_mistyped_option_is_said_of_the_listing(vdctui: Vdctui) -> None:
    result = vdctui("task", "--activ")
    assert result.exit_code == 2
    assert "No such option '--activ'" in result.output
    assert "task list [OPTIONS]" in result.output  # the command whose options they are
    assert "--active" in result.output  # did you mean


def test_the_group_s_help_says_the_listing_is_the_default_with_its_options(
    vdctui: Vdctui,
) -> None:
    result = vdctui("task", "--help")
    assert result.exit_code == 0, result.output
    assert "cancel" in result.output
    assert "list" in result.output and "(the default)" in result.output
    assert "vdctui task --active" in result.output.replace("\n", " ").replace("  ", " ")
    listed = vdctui("task", "--active", "--help")  # the listing's own help
    assert listed.exit_code == 0 and "Only queued and running tasks." in listed.output


def test_every_group_that_lists_by_default_takes_the_listing_s_options() -> None:
    """The class: each group that runs a command when given none (`task`, `pool`,
    `operator`) hands its arguments to that command when they are not the group's own."""
    from vdctui.cli.default_command import ListsByDefault

    groups = {
        path: command
        for path, command in every_command(main).items()
        if isinstance(command, click.Group) and command.invoke_without_command
    }
    assert {"task", "pool", "operator"} <= set(groups)
    for path, group in groups.items():
        assert isinstance(group, ListsByDefault), path
        assert group.default_command in group.commands, path
