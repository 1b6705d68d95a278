"""A VM's serial console over SSH: `vdctui vm console VM` at a terminal (a pty) against
`vdctui emulate --serve-ssh`, OpenSSH's own client (`ssh -tt HOST virsh console VM`) on
the same emulated hosts, and the driver's channel through a bastion."""

from __future__ import annotations

import json
import shutil
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pexpect
import pytest
from click.testing import CliRunner

from emulator.demo import build_demo
from tests.ssh.served import emulate_serving, serve
from tests.terminal import ESCAPE, TIMEOUT_S, ask, at_a_terminal, log_in
from vdctui.cli.main import main


@pytest.fixture(scope="module")
def emulated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    with emulate_serving(tmp_path_factory.mktemp("serve")) as inventory:
        yield inventory


def cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def vms(db: Path, inventory: Path) -> list[dict[str, object]]:
    code, out = cli("--db", str(db), "--json", "--inventory", str(inventory), "vm", "list")
    assert code == 0, out
    return list(json.loads(out))


def test_vm_console_at_a_terminal_answers_with_the_vms_figures(
    emulated: Path, tmp_path: Path
) -> None:
    db = tmp_path / "c.db"
    vm = next(v for v in vms(db, emulated) if v["state"] == "running")
    name = str(vm["name"])
    term = at_a_terminal("--db", str(db), "--inventory", str(emulated), "vm", "console", name)
    term.expect("Ctrl-] ends it and comes back to vdctui.")
    term.expect(f"Connected to domain '{name}'")
    log_in(term, name)
    assert ask(term, name, "nproc").strip() == str(vm["vcpus"])
    assert ask(term, name, "hostname").strip() == name
    assert " up " in ask(term, name, "uptime")
    total = ask(term, name, "free -m").split("\r\n")[1].split()[1]
    assert int(total) == vm["memory_mib"]
    assert "command not found" in ask(term, name, "rm -rf /")
    term.send(ESCAPE)
    term.expect(f"The console of {name} on host {vm['host']} ended.")
    term.expect(pexpect.EOF)
    term.close()
    assert term.exitstatus == 0
    code, out = cli("--db", str(db), "--json", "audit", "list")
    records = [(r["action"], r["target"], r["result"]) for r in json.loads(out)]
    assert ("vm.console", name, "ok") in records
    assert ("vm.console.end", name, "ok") in records


def test_vm_console_refusals_are_one_sentence_and_audited(emulated: Path, tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    found = vms(db, emulated)
    running = next(str(v["name"]) for v in found if v["state"] == "running")
    off = next((str(v["name"]) for v in found if v["state"] == "shut off"), None)
    args = ["--db", str(db), "--inventory", str(emulated), "vm", "console"]
    if off is not None:
        term = at_a_terminal(*args, off)
        term.expect(pexpect.EOF)
        term.close()
        assert term.exitstatus == 1
        assert f"{off} is shut off: its console answers only while it runs" in str(term.before)
    viewer = at_a_terminal(*args, running, "--read-only")
    viewer.expect(pexpect.EOF)
    viewer.close()
    assert viewer.exitstatus == 1 and "vdctui:" in str(viewer.before)
    assert "Connected to domain" not in str(viewer.before)
    no_terminal = CliRunner().invoke(main, [*args, running])  # stdin is not a terminal
    assert no_terminal.exit_code == 1
    assert "A console needs a terminal" in no_terminal.output
    code, out = cli("--db", str(db), "--json", "audit", "list")
    results = [r["result"] for r in json.loads(out) if r["action"] == "vm.console"]
    assert results.count("refused") == (2 if off is not None else 1)
    assert "ok" not in results


@pytest.mark.skipif(shutil.which("ssh") is None, reason="needs OpenSSH's client")
def test_openssh_client_opens_the_emulated_virsh_console(emulated: Path, tmp_path: Path) -> None:
    inventory = tomllib.loads(emulated.read_text())
    host = inventory["hosts"][0]
    user_host, port = str(host["address"]).rsplit(":", 1)
    db = tmp_path / "c.db"
    name = next(
        str(v["name"])
        for v in vms(db, emulated)
        if v["state"] == "running" and v["host"] == host["name"]
    )
    ssh = [
        "-p",
        port,
        "-i",
        inventory["identity"],
        "-o",
        f"UserKnownHostsFile={inventory['known_hosts']}",
        "-o",
        "StrictHostKeyChecking=yes",
        "-o",
        "BatchMode=yes",
        "-F",
        "/dev/null",
    ]
    term = pexpect.spawn(
        "ssh",
        ["-tt", *ssh, user_host, f"virsh console --domain {name}"],
        encoding="utf-8",
        timeout=TIMEOUT_S,
    )
    term.expect(f"Connected to domain '{name}'")
    term.expect(r"Escape character is \^\] \(Ctrl \+ \]\)")
    log_in(term, name)
    assert ask(term, name, "hostname").strip() == name
    term.send(ESCAPE)
    term.expect(pexpect.EOF)
    term.close()
    assert term.exitstatus == 0
    without = pexpect.spawn(
        "ssh", ["-T", *ssh, user_host, f"virsh console {name}"], encoding="utf-8"
    )
    without.expect(pexpect.EOF, timeout=TIMEOUT_S)
    without.close()
    assert without.exitstatus == 1
    assert "Cannot run interactive console without a controlling TTY" in str(without.before)


async def test_the_drivers_console_goes_through_the_bastion() -> None:
    fleet = build_demo(seed=4, hosts=2, vms=4)
    served = await serve(fleet, bastion=True)
    driver = served.driver()
    try:
        running = next(v for v in fleet.vms.values() if v.state == "running")
        channel = await driver.open_console(running.name, (100, 30), "xterm")
        seen = b""
        while b"login: " not in seen:
            chunk = await channel.read()
            assert chunk, seen
            seen += chunk
        assert f"Connected to domain '{running.name}'".encode() in seen
        assert served.server.stats.forwarded >= 1  # through the bastion, by name
        channel.write(ESCAPE.encode())
        while await channel.read():
            pass
        await channel.close()
        assert channel.exit_status() == 0
    finally:
        await driver.close()
