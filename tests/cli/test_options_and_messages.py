"""Global options where an operator types them, and messages that say what happened."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.cli.conftest import Vdctui
from vdctui.backend import open_console
from vdctui.cli.main import main


def run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.mark.parametrize(
    "args",
    [
        ("vm", "list", "--json"),
        ("host", "list", "--json"),
        ("pool", "list", "--json"),
        ("pool", "--json"),
        ("migration", "list", "--json"),
        ("task", "list", "--json"),
        ("audit", "list", "--json"),
    ],
)
def test_json_after_the_subcommand(vdctui: Vdctui, args: tuple[str, ...]) -> None:
    result = vdctui(*args)
    assert result.exit_code == 0, result.output
    assert isinstance(json.loads(result.stdout), list)


def test_db_after_the_subcommand(vdctui: Vdctui) -> None:
    result = run("vm", "list", "--db", str(vdctui.db), "--json")
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)) == 40


def test_db_after_the_subcommand_wins_over_the_one_before(vdctui: Vdctui, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere" / "never.db"
    result = run("--db", str(elsewhere), "host", "list", "--db", str(vdctui.db), "--json")
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)) == 8
    assert not elsewhere.parent.exists()


def test_read_only_after_the_subcommand(vdctui: Vdctui) -> None:
    name = vdctui.json("vm", "list", "--state", "running")[0]["name"]
    result = vdctui("vm", "stop", name, "--yes", "--read-only")
    assert result.exit_code == 1
    assert "read-only" in result.stderr
    assert name in {v["name"] for v in vdctui.json("vm", "list", "--state", "running")}


def test_inventory_after_the_subcommand_is_checked_like_before(vdctui: Vdctui) -> None:
    result = vdctui("host", "list", "--inventory", "/nonexistent/inv.toml")
    assert result.exit_code == 2
    assert "inv.toml" in result.stderr


def test_global_options_are_in_each_commands_help() -> None:
    result = run("vm", "list", "--help")
    assert result.exit_code == 0
    for option in ("--json", "--db", "--read-only", "--inventory"):
        assert option in result.stdout


def test_an_audit_filter_that_matches_nothing_says_so(vdctui: Vdctui) -> None:
    result = vdctui("audit", "list", "--actor", "nobody-at-all")
    assert result.exit_code == 0
    assert "empty" not in result.stdout
    assert result.stdout.strip() == "No audit record matches --actor nobody-at-all."


def test_an_empty_audit_log_says_it_is_empty(tmp_path: Path) -> None:
    result = Vdctui(tmp_path / "new.db")("audit", "list")
    assert result.exit_code == 0
    assert result.stdout.strip() == "The audit log is empty."


def test_a_migration_filter_that_matches_nothing_says_so(vdctui: Vdctui) -> None:
    vm = vdctui.json("vm", "list")[0]["name"]
    result = vdctui("migration", "list", "--vm", vm)
    assert result.exit_code == 0
    assert result.stdout.strip() == f"No migration matches --vm {vm}."


def test_migrations_of_a_vm_that_does_not_exist(vdctui: Vdctui) -> None:
    result = vdctui("migration", "list", "--vm", "nosuch")
    assert result.exit_code == 1
    assert result.stderr.strip() == "vdctui: There is no VM named 'nosuch'."


def test_migrations_of_a_host_that_does_not_exist(vdctui: Vdctui) -> None:
    result = vdctui("migration", "list", "--host", "nosuch")
    assert result.exit_code == 1
    assert result.stderr.strip() == "vdctui: There is no host named 'nosuch'."


def test_migrations_of_a_vm_on_a_db_never_synced(tmp_path: Path) -> None:
    """A real VM is known even before anything synced the console's store."""
    cli = Vdctui(tmp_path / "new.db")
    assert cli("emulate", "--hosts", "2", "--vms", "4", "--for", "1s").exit_code == 0
    vm = cli.json("vm", "list")[0]["name"]
    for store_file in tmp_path.glob("new.db*"):
        store_file.unlink()  # the console's store is gone; the fleet beside it lives on
    result = cli("migration", "list", "--vm", vm)
    assert result.exit_code == 0, result.output


def test_a_vm_filter_that_matches_nothing_says_so(vdctui: Vdctui) -> None:
    result = vdctui("vm", "list", "--pool", "no-such-pool")
    assert result.exit_code == 0
    assert result.stdout.strip() == "No VM matches --pool no-such-pool."


async def test_the_in_use_message_names_the_db_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VDCTUI_FLEET_WAIT_S", "0")
    db = tmp_path / "mine.db"
    first = await asyncio.to_thread(
        Vdctui(db), "emulate", "--hosts", "2", "--vms", "4", "--for", "1s"
    )
    assert first.exit_code == 0, first.output
    holder = await open_console(db, speed=None)
    try:  # a command that runs the fleet itself (a VM change would be handed over)
        result = await asyncio.to_thread(Vdctui(db), "emulate", "--for", "1s")
    finally:
        await holder.close()
    assert result.exit_code == 1
    assert f"{db} is in use by vdctui pid" in result.stderr


def test_emulate_sized_by_hosts_alone_fits(tmp_path: Path) -> None:
    cli = Vdctui(tmp_path / "dc.db")
    result = cli("emulate", "--hosts", "8", "--for", "1s")
    assert result.exit_code == 0, result.output
    assert "8 hosts and 75 VMs" in result.stderr
    assert len(cli.json("vm", "list")) == 75


def test_a_console_that_crashed_exits_non_zero(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    class Crashed:
        return_code = 1

        def run(self) -> None:
            """Textual printed the traceback and returned."""

    monkeypatch.setattr("vdctui.ui.launch.console_app", lambda *a, **k: Crashed())
    assert Vdctui(tmp_path / "dc.db")().exit_code == 1
