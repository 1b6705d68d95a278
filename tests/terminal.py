"""A terminal (a pty, driven with pexpect) for the tests of a VM's serial console."""

from __future__ import annotations

import os
import sys

import pexpect

ESCAPE = "\x1d"  # Ctrl-]
TIMEOUT_S = 60  # a loaded machine: the console's answers come when the CPU is free


def at_a_terminal(*args: str) -> pexpect.spawn:
    env = {**os.environ, "TERM": "xterm", "PYTHONPATH": os.environ.get("PYTHONPATH", "")}
    argv = ["-m", "vdctui", *args]
    return pexpect.spawn(
        sys.executable, argv, env=env, encoding="utf-8", timeout=TIMEOUT_S, dimensions=(40, 120)
    )


def log_in(term: pexpect.spawn, vm: str) -> None:
    term.expect(f"{vm} login: ")
    term.send("root\r")
    term.expect("Password: ")
    term.send("secret\r")
    term.expect(f"root@{vm}:~# ")


def ask(term: pexpect.spawn, vm: str, command: str) -> str:
    term.send(command + "\r")
    term.expect(f"root@{vm}:~# ")
    return str(term.before).split("\r\n", 1)[1]  # what follows the echoed line
