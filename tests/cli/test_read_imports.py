"""A whole CLI read beside a process that holds the embedded fleet (issue 10, speed):
`vdctui vm list --host H` answers from the store, so its process runs none of the modules
a read does not need: not the emulator, the TUI, SSH, numpy or sqlite-utils, nor asyncio
(it reads the store without an event loop: vdctui.store_reads), sockets or OpenSSL's
hashes (imported where the store sends or hashes), nor the Console, its
drivers and the ops services a change calls (the scheduler, maintenance, CPU pinning,
recovery), nor the fleet sharing that hands changes over. It guards the import budget
of the read whose start-up is most of what a script waits for; it never measures time.

Real processes: `vdctui emulate` holds the fleet; the read is `python -m vdctui` in its
own process, which writes, as it exits, the modules it ran (a module imported on first
use, vdctui.imports, counts only once its body has run)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.cli.conftest import Vdctui
from tests.cli.test_shared_reads import holder  # noqa: F401 - the fixture
from tests.waiting import ENOUGH

ROOT = Path(__file__).resolve().parents[2]

NOT_FOR_A_READ = (
    "emulator",
    "textual",
    "rich",
    "asyncssh",
    "numpy",
    "sqlite_utils",
    "asyncio",
    "concurrent",
    "socket",  # the store's syslog copy and its owner's host name do without it
    "_hashlib",  # OpenSSL: hashes chain the audit log and fingerprint requests, not reads
    "secrets",
)
NOT_FOR_A_READ_VDCTUI = (
    "vdctui.ui",
    "vdctui.backend",
    "vdctui.drivers",
    "vdctui.ops.console",
    "vdctui.ops.reconcile",
    "vdctui.ops.tasks",
    "vdctui.drivers.emulated",
    "vdctui.drivers.locked",
    "vdctui.drivers.ssh",
    "vdctui.fleet_sharing",
    "vdctui.ops.balancer",
    "vdctui.ops.core_map",
    "vdctui.ops.cores",
    "vdctui.ops.maintenance",
    "vdctui.ops.preflight",
    "vdctui.ops.recovery",
    "vdctui.ops.scheduler",
    "vdctui.ops.scheduling",
)

# Runs `python -m vdctui ARGS` and, as the process exits, writes the modules whose body ran.
RUN_AND_LIST = """
import atexit, json, runpy, sys
out, args = sys.argv[1], sys.argv[2:]

def ran():
    lazy = {n for n, m in sys.modules.items() if type(m).__name__ == "_LazyModule"}
    with open(out, "w") as file:
        json.dump(sorted(set(sys.modules) - lazy), file)

atexit.register(ran)
sys.argv = ["vdctui", *args]
runpy.run_module("vdctui", run_name="__main__", alter_sys=True)
"""


def modules_run(db: Path, listing: Path, *args: str) -> tuple[str, set[str]]:
    """`vdctui --db DB ARGS` in its own process: what it printed, and the modules it ran."""
    proc = subprocess.run(
        [sys.executable, "-c", RUN_AND_LIST, str(listing), "--db", str(db), *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=ENOUGH,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.stdout, set(json.loads(listing.read_text()))


def test_a_read_beside_a_holder_runs_only_what_it_needs(
    vdctui: Vdctui,
    holder: subprocess.Popen[str],  # noqa: F811
    tmp_path: Path,
) -> None:
    host = vdctui.json("host", "list")[0]["name"]
    out, ran = modules_run(vdctui.db, tmp_path / "ran.json", "--json", "vm", "list", "--host", host)
    listed = json.loads(out)
    assert listed and {vm["host"] for vm in listed} == {host}  # it did read, from the store
    assert "vdctui.cli.vms" in ran and "vdctui.store.store" in ran  # the listing is real
    early = {m for m in ran if m.split(".")[0] in NOT_FOR_A_READ}
    early |= {m for m in ran if m.startswith(NOT_FOR_A_READ_VDCTUI)}
    assert not early, sorted(early)
    assert holder.poll() is None


def test_a_host_list_beside_a_holder_runs_only_what_it_needs_too(
    vdctui: Vdctui,
    holder: subprocess.Popen[str],  # noqa: F811
    tmp_path: Path,
) -> None:
    out, ran = modules_run(vdctui.db, tmp_path / "ran.json", "--json", "host", "list")
    names = [h["name"] for h in json.loads(out)]  # what the store holds, as any read says
    assert names and names == [h["name"] for h in vdctui.json("host", "list")]
    early = {m for m in ran if m.split(".")[0] in NOT_FOR_A_READ}
    early |= {m for m in ran if m.startswith(NOT_FOR_A_READ_VDCTUI)}
    assert not early, sorted(early)
