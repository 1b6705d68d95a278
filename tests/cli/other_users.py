"""Another OS user beside root, for real: a forked child whose uid is nobody's runs CLI
commands (or any function) there; a group-shared folder set up as the README says
(setgid, 2770, umask 0007); `vdctui emulate` holding the embedded fleet in a process."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from tests.waiting import ENOUGH
from vdctui.cli.main import main
from vdctui.fleet_socket import announce

ROOT = Path(__file__).resolve().parents[2]
GROUP = 100  # "users": the group that shares the data center


def in_child_as_nobody(
    work: Callable[[], Any], *, groups: list[int] | None = None, env: dict[str, str] | None = None
) -> Any:
    """`work()` in a forked child whose uid is nobody's (in `groups`, with `env` added to
    its environment); what it returned (JSON), or the child's error raised here. The
    child cannot read root's Python: what it runs must have been imported already."""
    nobody = pwd.getpwnam("nobody")
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: no pytest from here on, only os._exit
        try:
            os.close(read)
            os.environ.update(env or {})
            os.setgroups(groups or [])
            os.setgid(nobody.pw_gid)
            os.setuid(nobody.pw_uid)
            try:
                said: dict[str, Any] = {"result": work()}
            except BaseException as exc:  # noqa: BLE001 - said to the parent
                said = {"error": repr(exc)}
            os.write(write, json.dumps(said).encode())
        finally:
            os._exit(0)
    os.close(write)
    chunks = []
    while chunk := os.read(read, 65536):
        chunks.append(chunk)
    os.close(read)
    os.waitpid(pid, 0)
    said = json.loads(b"".join(chunks))
    assert "error" not in said, said["error"]
    return said["result"]


def as_nobody(
    db: Path,
    *commands: list[str],
    groups: list[int] | None = None,
    env: dict[str, str] | None = None,
) -> list[tuple[int, str, str]]:
    """Run CLI commands in a forked child whose uid is nobody's; their results."""

    def run() -> list[tuple[int, str, str]]:
        runner = CliRunner()
        out = []
        for args in commands:
            r = runner.invoke(main, ["--db", str(db), *args])
            err = (
                r.stderr
                if r.exception is None or isinstance(r.exception, SystemExit)
                else (f"{r.stderr}{r.exception!r}")
            )
            out.append((r.exit_code, r.stdout, err))
        return out

    return [tuple(r) for r in in_child_as_nobody(run, groups=groups, env=env)]  # type: ignore[misc]


@contextlib.contextmanager
def group_shared_folder(prefix: str = "vdctui-grp-") -> Iterator[Path]:
    """A setgid, group-writable folder (2770, group GROUP) and umask 0007, as the README
    sets up a data center shared on a bastion host; removed after."""
    shared = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    old_umask = os.umask(0o007)
    try:
        os.chown(shared, 0, GROUP)
        shared.chmod(0o2770)
        yield shared
    finally:
        os.umask(old_umask)
        shutil.rmtree(shared)


@contextlib.contextmanager
def holding(db: Path) -> Iterator[subprocess.Popen[str]]:
    """`vdctui emulate` in real time in another process (this one's user): it holds
    the data center at `db` until the block ends."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "vdctui", "--db", str(db), "emulate"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        # serving, not only holding: it takes the fleet's lock before it has loaded the
        # fleet and opened its socket, where a request announced meanwhile goes unheard
        deadline = time.monotonic() + ENOUGH
        while not asyncio.run(announce(db, 0, "")):  # request 0 is nobody's: "not pending"
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, f"vdctui emulate never served {db}"
            time.sleep(0.05)
        yield proc
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
