"""A real VM's serial console: `virsh console` through the driver's SSH settings (the
inventory's address, key, known_hosts), from the CLI and from the TUI (suspended for it,
in a terminal of its own), answered by the guest itself and left with Ctrl-]."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pexpect

from tests.lab.conftest import Guests, run_cli
from tests.lab.lab import Lab

ROOT = Path(__file__).resolve().parents[2]
ESCAPE = "\x1d"  # Ctrl-]
WAIT_S = 120  # a generous bound on a loaded machine; no assertion on time


# What a terminal is sent between two cells of a table row: blanks, and the style each
# cell's own segment resets and sets again (the VMs table places each cell on its own).
BETWEEN_CELLS = r"(?:\s|\x1b\[[0-9;]*m)+"


def at_a_terminal(*args: str) -> pexpect.spawn:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "VDCTUI_ROLE": "admin", "TERM": "xterm"}
    return pexpect.spawn(
        sys.executable,
        ["-m", "vdctui", *args],
        env=env,
        encoding="utf-8",
        timeout=WAIT_S,
        dimensions=(48, 160),
    )


def console_records(inventory: Path, db: Path, name: str) -> list[tuple[str, str]]:
    listed = run_cli(inventory, db, "--json", "audit", "list", "--target", name)
    assert listed.returncode == 0, listed.stderr
    return [(r["action"], r["result"]) for r in json.loads(listed.stdout)]


def talk_to_the_guest(term: pexpect.spawn, name: str) -> None:
    term.expect(f"Connected to domain '{name}'")
    term.expect(r"Escape character is \^\]")
    term.send("HAL")  # the guest answers each byte plus one: its own serial output
    term.expect("IBM")
    term.send(ESCAPE)


def test_vm_console_from_the_cli(
    lab: Lab, lab_inventory: Path, guests: Guests, tmp_path: Path
) -> None:
    name = guests.define("con-cli", 1, serial=True)
    db = tmp_path / "c.db"
    term = at_a_terminal("--db", str(db), "--inventory", str(lab_inventory), "vm", "console", name)
    term.expect(f"Console of {name} on host labh1: Ctrl-] ends it")
    talk_to_the_guest(term, name)
    term.expect(f"The console of {name} on host labh1 ended.")
    term.expect(pexpect.EOF)
    term.close()
    assert term.exitstatus == 0
    assert {("vm.console", "ok"), ("vm.console.end", "ok")} <= set(
        console_records(lab_inventory, db, name)
    )
    lab.virsh(1, "destroy", name)
    refused = run_cli(lab_inventory, db, "vm", "console", name)  # no terminal, and not running
    assert refused.returncode == 1


def test_vm_console_through_the_tuis_suspend(
    lab: Lab, lab_inventory: Path, guests: Guests, tmp_path: Path
) -> None:
    name = guests.define("con-tui", 2, serial=True)
    db = tmp_path / "t.db"
    term = at_a_terminal("--db", str(db), "--inventory", str(lab_inventory))
    term.expect("synced")  # the header, once the first sync with the hosts is done
    term.send("2")
    term.expect(rf"{name}{BETWEEN_CELLS}running")  # the VMs table shows it
    term.send("/")
    term.expect("state:running host:")  # the filter's prompt is open: typing goes there
    term.send(name + "\r")
    term.expect(f"filter: {name}")  # only this VM under the cursor (Enter closed the prompt)
    term.send("c")  # the TUI suspends itself for the console
    term.expect(f"Console of {name} on host labh2: Ctrl-] ends it")
    talk_to_the_guest(term, name)
    term.expect("ended")  # the TUI is back: its notification says how the console ended
    assert ("vm.console.end", "ok") in console_records(lab_inventory, db, name)
    term.send("q")
    term.expect(pexpect.EOF)
    term.close()
    assert term.exitstatus == 0
