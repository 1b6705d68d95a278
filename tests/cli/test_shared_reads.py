"""Reads while another process holds the embedded data center, and a user who cannot
write the store: read-only, told so in one line, never an error or a traceback."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.conftest import Vdctui
from tests.cli.other_users import GROUP, as_nobody, group_shared_folder, holding
from tests.waiting import ENOUGH

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def holder(vdctui: Vdctui) -> Iterator[subprocess.Popen[str]]:
    """`vdctui emulate` in real time in another process: it holds the data center."""
    with holding(vdctui.db) as proc:
        yield proc


def test_read_only_reads_while_another_process_holds_the_fleet(
    vdctui: Vdctui, holder: subprocess.Popen[str]
) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    base = [sys.executable, "-m", "vdctui", "--db", str(vdctui.db)]
    readers = [
        subprocess.Popen(
            [*base, "--read-only", "--json", "vm", "list"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(6)
    ]
    results = [(*r.communicate(timeout=ENOUGH), r.returncode) for r in readers]
    for out, err, code in results:
        assert code == 0, err
        assert len(json.loads(out)) == 40
        assert "holds the data center" in err and "last synced" in err
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    reader = subprocess.run(
        [*base, "--json", "vm", "list"], capture_output=True, text=True, env=env, timeout=ENOUGH
    )  # any role reads while another process holds the fleet
    assert reader.returncode == 0 and len(json.loads(reader.stdout)) == 40, reader.stderr
    assert "holds the data center" in reader.stderr
    # a read says what it shows, not that changes are barred: they are handed to the holder
    assert "read-only" not in reader.stderr and "reopen" not in reader.stderr, reader.stderr
    changer = subprocess.run(
        [*base, "vm", "start", "no-such-vm"],
        capture_output=True,
        text=True,
        env={**env, "VDCTUI_FLEET_WAIT_S": "0.5"},
        timeout=ENOUGH,
    )  # a VM change is handed to the holder, which judges it
    assert changer.returncode == 1, changer.stderr
    assert "it carries out your changes" in changer.stderr
    assert "There is no VM named 'no-such-vm'." in changer.stderr
    handed = subprocess.run(
        [*base, "host", "maintenance", "rk1-h01", "--exit"],
        capture_output=True,
        text=True,
        env={**env, "VDCTUI_FLEET_WAIT_S": "0.5"},
        timeout=ENOUGH,
    )  # host maintenance is handed over too: judged without waiting for the fleet
    assert handed.returncode == 1 and "it carries out your changes" in handed.stderr
    assert "Host rk1-h01 is not in maintenance." in handed.stderr, handed.stderr
    needs_fleet = subprocess.run(
        [*base, "emulate", "--for", "1m"],
        capture_output=True,
        text=True,
        env={**env, "VDCTUI_FLEET_WAIT_S": "0.5"},
        timeout=ENOUGH,
    )  # a command that runs the fleet itself is refused at once beside one that runs it
    assert needs_fleet.returncode == 1, needs_fleet.stderr
    assert f"already running in vdctui emulate (vdctui pid {holder.pid})" in needs_fleet.stderr
    assert holder.poll() is None


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to open a root-owned store as nobody")
def test_a_user_who_cannot_write_the_store_gets_a_read_only_console(vdctui: Vdctui) -> None:
    shared = Path(tempfile.mkdtemp(prefix="vdctui-ro-", dir="/tmp"))
    try:
        shared.chmod(0o755)  # others may read, not write: like a db outside their group
        for file in vdctui.db.parent.iterdir():
            if file.is_file():
                shutil.copy(file, shared / file.name)
                (shared / file.name).chmod(0o644)
        db = shared / vdctui.db.name
        name = next(v["name"] for v in Vdctui(db).json("vm", "list") if v["state"] == "running")
        # warm every import the child needs: it cannot read root's Python afterwards
        warm = Vdctui(db)
        for args in (["--json", "vm", "list"], ["audit", "list"], ["operator", "list"]):
            warm(*args)
        warm("--read-only", "vm", "destroy", name, "--yes")
        newest = Vdctui(db).json("audit", "list")[0]
        listed, destroyed, operators = as_nobody(
            db,
            ["--json", "vm", "list"],
            ["vm", "destroy", name, "--yes"],
            ["operator", "list"],
        )
        code, out, err = listed
        assert code == 0, err
        assert len(json.loads(out)) == 40
        assert err.count("\n") == 1 and "nobody cannot write" in err and "read-only" in err
        code, out, err = destroyed
        assert code == 1 and "read-only" in err and "Traceback" not in err
        code, out, err = operators
        assert code == 0 and "root" in out
        after = Vdctui(db)
        assert next(v for v in after.json("vm", "list") if v["name"] == name)["state"] == (
            "running"
        )
        assert after.json("audit", "list")[0] == newest  # nobody could not write
        assert all(p.stat().st_uid == 0 for p in shared.iterdir())
    finally:
        shutil.rmtree(shared)


def test_24_read_only_commands_on_a_new_data_center(tmp_path: Path) -> None:
    """24 processes open a data center nobody created yet: one builds it, the others
    read the store beside it; every one succeeds, none says "locked"."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    db = tmp_path / "new.db"
    command = [sys.executable, "-m", "vdctui", "--db", str(db), "--read-only", "--json"]
    procs = [
        subprocess.Popen(
            [*command, *(["vm", "list"] if k % 2 else ["operator", "list"])],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for k in range(24)
    ]
    try:
        results = [p.communicate(timeout=ENOUGH) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    for p, (out, err) in zip(procs, results, strict=True):
        assert p.returncode == 0, err
        assert isinstance(json.loads(out), list)
        assert "locked" not in err and "Traceback" not in err and "already exists" not in err


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to run commands as another user")
def test_a_group_shared_data_center_as_the_readme_sets_it_up(vdctui: Vdctui) -> None:
    """A setgid, group-writable directory (2770) and umask 0007: another member of the
    group writes the same db with the role an admin gave them, not the one they claim."""
    group = GROUP
    with group_shared_folder() as shared:
        db = shared / "vdctui.db"
        admin = Vdctui(db)
        built = admin("emulate", "--hosts", "4", "--vms", "12", "--seed", "3", "--for", "1m")
        assert built.exit_code == 0, built.output
        assert all(p.stat().st_gid == group for p in shared.iterdir())
        name = next(v["name"] for v in admin.json("vm", "list") if v["state"] == "running")
        admin("--read-only", "vm", "stop", name, "--yes")  # warm the imports the child needs
        admin("operator", "list")
        os.environ["VDCTUI_ROLE"] = "admin"  # claims admin: only lowers, never raises
        try:
            (viewer_stop,) = as_nobody(db, ["vm", "stop", name, "--yes"], groups=[group])
            assert admin("operator", "set", "nobody", "--role", "operator").exit_code == 0
            operator_stop, operator_pool = as_nobody(
                db, ["vm", "stop", name, "--yes"], ["pool", "create", "gold"], groups=[group]
            )
        finally:
            del os.environ["VDCTUI_ROLE"]
        assert viewer_stop[0] == 1 and "cannot raise your role" in viewer_stop[2]
        assert operator_stop[0] == 0, operator_stop[2]
        assert operator_pool[0] == 1 and "needs the admin role" in operator_pool[2]
        actors = {(r["actor"], r["action"], r["result"]) for r in admin.json("audit", "list")}
        assert {
            ("nobody", "vm.stop", "refused"),
            ("nobody", "vm.stop", "ok"),
            ("nobody", "pool.create", "refused"),
        } <= actors
