"""Every changing command checks the role first: a viewer's command exits 1 with one
sentence, leaves no task and no change behind, and its refusal is in the audit log.

The commands are not listed by hand: the test walks `vdctui`'s click group, and every
command it finds must be in COMMANDS below, either with the changes a viewer tries (each
with the door's action it must be refused as) or with a read a viewer may do (run too:
it must not be refused). A command added without an entry fails here until it is
classified; a command classified as a read that changes something is refused for the
viewer, and fails here too. No --yes anywhere: a change is refused before it asks.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import pytest

from tests.cli.conftest import Vdctui
from vdctui.backend import fleet_path
from vdctui.cli.main import main
from vdctui.ops.actions import Action
from vdctui.ops.identity import os_user


@dataclass(frozen=True)
class Changes:
    """A changing command: what a viewer tries (arguments after the command's path,
    with {placeholders}), each with the action it is refused as."""

    tries: tuple[tuple[str, Action], ...]


@dataclass(frozen=True)
class Reads:
    """A command that changes nothing: one way a viewer runs it (it is not refused)."""

    args: str = ""
    exit_code: int = 0


@dataclass(frozen=True)
class Elsewhere:
    """A command this test cannot run here, and where its role checks are tested."""

    where: str


A = Action
COMMANDS: dict[str, Changes | Reads | Elsewhere] = {
    "alert inject": Changes((("port-scan {vm}", A.FAULT_ATTACK),)),
    "alert list": Reads(),
    "alert quarantine": Changes((("1", A.VM_QUARANTINE),)),
    "audit export": Reads(),
    "audit list": Reads(),
    "audit seal init": Changes((("", A.AUDIT_SEAL),)),
    "audit seal status": Reads(),
    "audit verify": Reads(),
    "balance": Changes((("--apply --threshold 5", A.BALANCE_APPLY),)),
    "console": Elsewhere(
        "it opens the TUI, read-only for a viewer, whose changes are refused at the same "
        "door: tests/ui/test_workflows.py::test_read_only_hides_changes_and_refuses_them"
    ),
    "emulate": Changes((("--fresh --for 1m", A.EMULATE_FRESH),)),
    "ha fence": Changes((("{host}", A.HOST_POWER_OFF),)),
    "ha restart": Changes((("{host}", A.HA_RESTART_HOST),)),
    "ha watch": Changes((("--rounds 1 --interval 0.1", A.HA_WATCH_RESTART),)),
    "host add": Changes((("--rack rk1", A.HOST_ADD), ("--rack rk1 --apply", A.HOST_ADD))),
    "host cores": Reads("{host}"),
    "host list": Reads(),
    "host maintenance": Changes(
        (
            ("{host}", A.MAINTENANCE_ENTER),
            ("{host} --exit", A.MAINTENANCE_EXIT),
            ("{host} --resume", A.MAINTENANCE_ENTER),
            ("{host} --cancel", A.MAINTENANCE_EXIT),
        )
    ),
    "host pins": Changes((("{host} --repair", A.HOST_PINS_REPAIR),)),
    "host power": Changes(
        (
            ("on {host}", A.HOST_POWER_ON),
            ("off {host}", A.HOST_POWER_OFF),
            ("off {host} --force", A.HOST_POWER_OFF),
            ("cycle {host}", A.HOST_POWER_CYCLE),
        )
    ),
    "host remove": Changes((("{host}", A.HOST_REMOVE),)),
    "host reserve-cpus": Changes((("{host} 0-1", A.HOST_RESERVE_CPUS),)),
    "host trust": Changes((("kvm-01 @inventory", A.HOST_TRUST),)),
    "migration": Reads(),
    "operator list": Reads(),
    "operator set": Changes((("nobody --role admin", A.OPERATOR_SET),)),
    "pool create": Changes((("gold --cpu-shares 4000", A.POOL_CREATE),)),
    "pool list": Reads(),
    "pool set": Changes((("{pool} --cpu-shares 1", A.POOL_UPDATE),)),
    "secgroup attach": Changes((("web {vm}", A.SECGROUP_ATTACH),)),
    "secgroup create": Changes((("web", A.SECGROUP_CREATE),)),
    "secgroup delete": Changes((("web", A.SECGROUP_DELETE),)),
    "secgroup detach": Changes((("web {vm}", A.SECGROUP_DETACH),)),
    "secgroup list": Reads(),
    "secgroup refresh": Changes((("", A.SECGROUP_REFRESH),)),
    "secgroup rule add": Changes((("web --ports 80", A.SECGROUP_RULE_ADD),)),
    "secgroup rule remove": Changes((("1", A.SECGROUP_RULE_REMOVE),)),
    "service create": Changes((("web --vip 10.9.0.1 --port 80", A.SERVICE_CREATE),)),
    "service drain": Changes((("web {vm}", A.SERVICE_DRAIN),)),
    "service enable": Changes((("web {vm}", A.SERVICE_ENABLE),)),
    "service list": Reads(),
    "service member add": Changes((("web {vm} --port 80", A.SERVICE_MEMBER_ADD),)),
    "service member remove": Changes((("web {vm}", A.SERVICE_MEMBER_REMOVE),)),
    "task cancel": Changes((("1", A.TASK_CANCEL),)),
    "task list": Reads(),
    "vm affinity": Changes((("pair {vm} {vm2} --kind same-host", A.AFFINITY_UPDATE),)),
    "vm autostart": Changes((("{vm} on", A.VM_AUTOSTART),)),
    "vm config": Reads("{vm}"),
    "vm console": Changes((("{vm}", A.VM_CONSOLE),)),
    "vm cpu-policy": Changes((("{vm} dedicated", A.VM_CPU_POLICY),)),
    "vm create": Changes((("web-900 --flavor small --pool {pool}", A.VM_CREATE),)),
    "vm destroy": Changes((("{vm}", A.VM_DESTROY),)),
    "vm duplicates": Reads(),
    "vm list": Reads(),
    "vm migrate": Changes((("{vm} --to {host}", A.VM_MIGRATE),)),
    "vm reboot": Changes((("{vm}", A.VM_REBOOT),)),
    "vm remove-copy": Changes((("{vm} --host {host}", A.VM_REMOVE_COPY),)),
    "vm resize": Changes((("{vm} --vcpus 2", A.VM_RESIZE),)),
    "vm resume": Changes((("{vm}", A.VM_RESUME),)),
    "vm snapshot create": Changes((("{vm} before-upgrade", A.VM_SNAPSHOT_CREATE),)),
    "vm snapshot delete": Changes((("{vm} before-upgrade", A.VM_SNAPSHOT_DELETE),)),
    "vm snapshot list": Reads("{vm}"),
    "vm snapshot revert": Changes((("{vm} before-upgrade", A.VM_SNAPSHOT_REVERT),)),
    "vm snapshot space": Reads(),
    "vm start": Changes((("{stopped}", A.VM_START),)),
    "vm stop": Changes((("{vm}", A.VM_STOP),)),
    "vm suspend": Changes((("{vm}", A.VM_SUSPEND),)),
    "vm xml": Reads("{vm}"),
    # the read modes of changing commands
    "balance (plan)": Reads(),
    "ha watch (no restarts)": Reads("--no-restart --rounds 1 --interval 0.1"),
    "host maintenance (plan)": Reads("{host} --plan"),
}


def commands(group: click.Group, path: tuple[str, ...] = ()) -> Iterator[str]:
    """Every command under `group`, by its path ("vm snapshot create"); the lazy ones
    (vdctui.cli.lazy) loaded."""
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None, name
        if isinstance(command, click.Group):
            yield from commands(command, (*path, name))
        else:
            yield " ".join((*path, name))


EVERY_COMMAND = sorted(commands(main))


def test_every_entry_is_a_command() -> None:
    """An entry left behind by a command renamed or removed (the walk found nothing)."""
    listed = {name.partition(" (")[0] for name in COMMANDS}
    assert listed - set(EVERY_COMMAND) == set()


def test_every_change_a_command_can_ask_for_is_an_action_that_needs_a_role() -> None:
    for entry in COMMANDS.values():
        if isinstance(entry, Changes):
            assert all(
                action.is_change and action.role.value != "viewer" for _, action in entry.tries
            )


def up_host(vdctui: Vdctui) -> str:
    return str(next(h["name"] for h in vdctui.json("host", "list") if h["state"] == "up"))


class Place:
    """The names a command's arguments stand for, in the test's data center."""

    def __init__(self, vdctui: Vdctui, tmp_path: Path) -> None:
        vms = vdctui.json("vm", "list")
        running = [v["name"] for v in vms if v["state"] == "running"]
        self.names = {
            "vm": running[0],
            "vm2": running[1],
            "stopped": next((v["name"] for v in vms if v["state"] != "running"), running[0]),
            "host": up_host(vdctui),
            "pool": vdctui.json("pool", "list")[0]["pool"]["name"],
        }
        self.tmp_path = tmp_path

    def args(self, path: str, args: str) -> list[str]:
        words = path.partition(" (")[0].split() + args.format(**self.names).split()
        if "@inventory" not in words:
            return words
        words.remove("@inventory")
        return ["--inventory", str(self.inventory()), *words]

    def inventory(self) -> Path:
        (self.tmp_path / "known_hosts").write_text("")
        inventory = self.tmp_path / "inventory.toml"
        inventory.write_text(
            'known_hosts = "known_hosts"\n\n[[hosts]]\nname = "kvm-01"\nsite = "s"\n'
            'room = "r"\nrack = "a"\naddress = "root@127.0.0.1:1"\n'
        )
        return inventory


STEADY = {  # what a refused change must leave as it was (not what moves on its own)
    "vm": ("name", "state", "host", "vcpus", "memory_mib", "pool", "autostart", "nics"),
    "host": ("name", "state", "reserved_cpus", "maintenance", "power_state"),
}


def data_center(vdctui: Vdctui) -> dict[str, Any]:
    """What the viewer might have changed, as the CLI shows it."""
    shown: dict[str, Any] = {}
    for kind in ("vm", "host", "task", "pool", "secgroup", "service", "operator", "migration"):
        rows = vdctui.json(kind, "list")
        keep = STEADY.get(kind)
        shown[kind] = [{k: r[k] for k in keep} for r in rows] if keep else rows
    return shown


def audit(vdctui: Vdctui) -> list[dict[str, Any]]:
    return vdctui.json("audit", "list", "--limit", "100000")


@pytest.mark.parametrize("path", sorted({*EVERY_COMMAND, *COMMANDS}))
def test_a_viewer(vdctui: Vdctui, tmp_path: Path, path: str) -> None:
    entry = COMMANDS.get(path)
    assert entry is not None, (
        f"`vdctui {path}` is in no entry of COMMANDS: say what a viewer tries with it "
        "(Changes, with the action each try is refused as) or that it only reads (Reads)."
    )
    if isinstance(entry, Elsewhere):
        pytest.skip(f"`vdctui {path}`: {entry.where}")
    place = Place(vdctui, tmp_path)
    if isinstance(entry, Reads):
        before, records = data_center(vdctui), audit(vdctui)
        result = vdctui(*place.args(path, entry.args), read_only=True)
        assert result.exit_code == entry.exit_code, result.output
        assert "role" not in result.stderr and "Traceback" not in result.output, result.stderr
        assert [r for r in audit(vdctui) if r["result"] == "refused"] == [
            r for r in records if r["result"] == "refused"
        ]
        assert data_center(vdctui) == before
        return
    for args, action in entry.tries:
        before, records = data_center(vdctui), audit(vdctui)
        result = vdctui(*place.args(path, args), read_only=True)
        said = result.stderr.strip()
        assert result.exit_code == 1, (args, result.output)
        assert "Traceback" not in result.output, result.output
        assert len(said.splitlines()) == 1, (args, said)  # one sentence
        assert f"needs the {action.role} role; {os_user()} is a viewer (read-only)." in said, (
            args,
            said,
        )
        assert "confirmation" not in said  # refused before it asks
        after = audit(vdctui)
        assert len(after) == len(records) + 1, (args, after[: len(after) - len(records)])
        record = after[0]
        assert (record["actor"], record["role"], record["action"], record["result"]) == (
            os_user(),
            "viewer",
            action.id,
            "refused",
        ), args
        assert record["error"] == said.removeprefix("vdctui: ")
        assert data_center(vdctui) == before, args  # no task row, no change


def test_emulate_fresh_leaves_the_data_center_as_it_was(vdctui: Vdctui) -> None:
    before = fleet_path(vdctui.db).read_bytes()
    result = vdctui("emulate", "--fresh", "--yes", "--for", "1m", read_only=True)
    assert result.exit_code == 1 and "read-only" in result.stderr
    assert fleet_path(vdctui.db).read_bytes() == before  # the data center is still there


@pytest.mark.parametrize("role", ["viewer", "operator"])
def test_the_environment_lowers_for_every_command(
    vdctui: Vdctui, monkeypatch: pytest.MonkeyPatch, role: str
) -> None:
    monkeypatch.setenv("VDCTUI_ROLE", role)
    result = vdctui("pool", "create", "gold")
    assert result.exit_code == 1 and "needs the admin role" in result.stderr
    assert vdctui.json("audit", "list")[0]["role"] == role
