"""`vdctui vm console VM` on the embedded fleet: the same console, in-process."""

from __future__ import annotations

import pexpect

from tests.cli.conftest import Vdctui
from tests.terminal import ESCAPE, ask, at_a_terminal, log_in


def test_the_embedded_fleets_console_at_a_terminal(vdctui: Vdctui) -> None:
    vm = next(v for v in vdctui.json("vm", "list") if v["state"] == "running")
    name = vm["name"]
    term = at_a_terminal("--db", str(vdctui.db), "vm", "console", name)
    term.expect(f"Console of {name} on host {vm['host']}: Ctrl-] ends it")
    term.expect(f"Connected to domain '{name}'")
    log_in(term, name)
    assert ask(term, name, "nproc").strip() == str(vm["vcpus"])
    assert ask(term, name, "hostname").strip() == name
    term.send("exit\r")
    term.expect(f"{name} login: ")
    term.send(ESCAPE)
    term.expect(pexpect.EOF)
    term.close()
    assert term.exitstatus == 0
    actions = [(r["action"], r["result"]) for r in vdctui.json("audit", "list", "--target", name)]
    assert ("vm.console", "ok") in actions and ("vm.console.end", "ok") in actions


def test_a_shut_off_vms_console_is_refused(vdctui: Vdctui) -> None:
    vm = next(v for v in vdctui.json("vm", "list") if v["state"] == "running")
    assert vdctui("vm", "destroy", vm["name"], "--yes").exit_code == 0
    term = at_a_terminal("--db", str(vdctui.db), "vm", "console", vm["name"])
    term.expect(pexpect.EOF)
    term.close()
    assert term.exitstatus == 1
    assert f"{vm['name']} is shut off: its console answers only while it runs" in str(term.before)
