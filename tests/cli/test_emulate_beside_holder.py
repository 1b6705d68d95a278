"""`vdctui emulate` started while another process runs the embedded data center (a
console, or `vdctui emulate` in real time): refused at once, in one sentence that says
who runs it and what to do, with no side effect (issue 10). A command that holds the
fleet only while it finishes is still waited for (bounded; see test_shared_reads)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.cli.conftest import Vdctui
from tests.cli.test_shared_reads import holder  # noqa: F401  (the fixture)
from tests.waiting import ENOUGH
from vdctui.backend import fleet_path

ROOT = Path(__file__).resolve().parents[2]


def _emulate(vdctui: Vdctui, *args: str) -> subprocess.CompletedProcess[str]:
    # a wait far longer than the test's timeout: a command that waited would fail it
    env = {**os.environ, "PYTHONPATH": str(ROOT), "VDCTUI_FLEET_WAIT_S": "600"}
    return subprocess.run(
        [sys.executable, "-m", "vdctui", "--db", str(vdctui.db), "emulate", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=ENOUGH,
        stdin=subprocess.DEVNULL,
    )


def test_emulate_beside_a_running_data_center_is_refused_at_once(
    vdctui: Vdctui,
    holder: subprocess.Popen[str],  # noqa: F811
) -> None:
    for args in ([], ["--for", "1m"], ["--hosts", "4", "--seed", "9"]):
        result = _emulate(vdctui, *args)
        assert result.returncode == 1, result.stderr
        said = result.stderr.strip()
        assert len(said.splitlines()) == 1 and "Traceback" not in said, said
        assert f"vdctui pid {holder.pid}" in said, said  # who
        assert "vdctui emulate" in said  # what it is
        assert "stop it there" in said and "another --db" in said  # what to do
        assert "waited" not in said
    assert holder.poll() is None  # the running one goes on
    assert fleet_path(vdctui.db).exists()


def test_emulate_fresh_beside_a_running_data_center_is_refused_and_audited(
    vdctui: Vdctui,
    holder: subprocess.Popen[str],  # noqa: F811
) -> None:
    result = _emulate(vdctui, "--fresh", "--yes")
    assert result.returncode == 1, result.stderr
    said = result.stderr.strip()
    assert len(said.splitlines()) == 1 and f"vdctui pid {holder.pid}" in said, said
    assert holder.poll() is None
    newest = vdctui.json("--read-only", "audit", "list")[0]
    assert (newest["action"], newest["result"]) == ("emulate.fresh", "refused"), newest
    assert newest["error"] == said.removeprefix("vdctui: ")
