"""The console's files: read-only, missing, a directory, damaged, emptied or missing a table.
Each is one sentence naming the file (exit 1), never a traceback, and never a new demo in
place of a data center that existed (issue 9)."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.input.conftest import Vdctui
from vdctui.backend import fleet_path

NO_OVERRIDE = ["setpriv", "--bounding-set=-dac_override,-dac_read_search"]


def as_plain_user(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `vdctui --db DB ARGS` in a process that file modes bind: root keeps its uid but
    loses the capability to override them (so chmod 444 means read-only here too)."""
    prefix: list[str] = []
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("root without setpriv: file modes do not bind")
        prefix = NO_OVERRIDE
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.run(
        [*prefix, sys.executable, "-m", "vdctui", "--db", str(db), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def one_sentence(stderr: str, *needles: str) -> None:
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.startswith("vdctui:")]
    assert lines, stderr
    for needle in needles:
        assert needle in lines[-1], lines[-1]


def test_a_read_only_db_is_read_read_only(vdctui: Vdctui) -> None:
    vdctui.db.chmod(0o444)
    listed = as_plain_user(vdctui.db, "--read-only", "vm", "list")
    assert listed.returncode == 0, listed.stderr
    assert "NAME" in listed.stdout and "Traceback" not in listed.stderr
    changed = as_plain_user(vdctui.db, "vm", "start", "web-001")
    assert changed.returncode == 1
    one_sentence(changed.stderr, "read-only")


def test_a_read_only_fleet_file_is_read_read_only(vdctui: Vdctui) -> None:
    fleet = fleet_path(vdctui.db)
    fleet.chmod(0o444)
    before = fleet.read_bytes()
    listed = as_plain_user(vdctui.db, "--read-only", "vm", "list")
    assert listed.returncode == 0, listed.stderr
    assert fleet.read_bytes() == before  # not written, not even checkpointed
    written = as_plain_user(vdctui.db, "vm", "list")
    assert written.returncode == 1
    one_sentence(written.stderr, str(fleet), "read-only", "--read-only")


def test_a_read_only_folder(vdctui: Vdctui) -> None:
    folder = vdctui.db.parent
    for lock in folder.glob("*.lock"):
        lock.unlink()
    folder.chmod(0o555)
    try:
        for args in (["--read-only", "vm", "list"], ["vm", "list"]):
            listed = as_plain_user(vdctui.db, *args)
            assert listed.returncode == 0, listed.stderr
            assert "NAME" in listed.stdout and "Traceback" not in listed.stderr
        changed = as_plain_user(vdctui.db, "vm", "start", "web-001")
        assert changed.returncode == 1
        one_sentence(changed.stderr, "read-only")
    finally:
        folder.chmod(0o700)


def test_a_lock_path_that_is_a_directory(vdctui: Vdctui) -> None:
    lock = fleet_path(vdctui.db).with_name(fleet_path(vdctui.db).name + ".lock")
    lock.unlink(missing_ok=True)
    lock.mkdir()
    result = vdctui("vm", "list")
    assert result.exit_code == 1
    one_sentence(result.stderr, str(lock), "is a directory")


@pytest.mark.parametrize("db", ["", "."])
def test_a_db_that_names_no_file(vdctui: Vdctui, db: str) -> None:
    result = vdctui.runner.invoke(
        __import__("vdctui.cli.main", fromlist=["main"]).main, ["--db", db, "vm", "list"]
    )
    assert result.exit_code in (1, 2)
    assert "Traceback" not in result.output and "--db" in result.stderr


@pytest.mark.parametrize(
    ("damage", "says"),
    [
        ("UPDATE object SET data = '[1, 2' WHERE kind = 'vm'", "not JSON"),
        ("UPDATE object SET data = '[1, 2]' WHERE kind = 'vm'", "not a list of the"),
        ("UPDATE object SET data = '{}' WHERE kind = 'host'", "not a list of the"),
        ("DELETE FROM meta WHERE key = 'now'", "no 'now' key"),
        ("UPDATE meta SET value = '\"soon\"' WHERE key = 'now'", "in its meta table"),
        ("UPDATE meta SET value = 'NaN' WHERE key = 'now'", "not finite"),
        ("UPDATE meta SET value = '[1]' WHERE key = 'counters'", "in its meta table"),
    ],
)
def test_malformed_rows_in_the_fleet_file(vdctui: Vdctui, damage: str, says: str) -> None:
    with sqlite3.connect(fleet_path(vdctui.db)) as conn:
        conn.execute(damage)
    conn.close()
    result = vdctui("vm", "list")
    assert result.exit_code == 1
    one_sentence(result.stderr, str(fleet_path(vdctui.db)), "is damaged", says)


def test_a_dropped_audit_table(vdctui: Vdctui) -> None:
    with sqlite3.connect(vdctui.db) as conn:
        conn.execute("DROP TABLE audit")
    conn.close()
    for args in (["vm", "list"], ["audit", "verify"], ["audit", "list"]):
        result = vdctui(*args)
        assert result.exit_code == 1, args
        one_sentence(result.stderr, str(vdctui.db), "no 'audit' table")


def _stop_one(vdctui: Vdctui) -> str:
    name = next(v["name"] for v in vdctui.json("vm", "list") if v["state"] == "running")
    assert vdctui("vm", "destroy", name, "--yes").exit_code == 0
    return name


@pytest.mark.parametrize("how", ["deleted", "emptied", "truncated"])
def test_a_lost_fleet_file_is_an_error_not_a_new_demo(vdctui: Vdctui, how: str) -> None:
    stopped = _stop_one(vdctui)
    fleet = fleet_path(vdctui.db)
    with sqlite3.connect(fleet) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    for extra in (Path(f"{fleet}-wal"), Path(f"{fleet}-shm")):
        extra.unlink(missing_ok=True)
    if how == "deleted":
        fleet.unlink()
    elif how == "truncated":
        fleet.write_bytes(b"")
    else:
        with sqlite3.connect(fleet) as conn:
            conn.execute("DELETE FROM meta")
            conn.execute("DELETE FROM object")
        conn.close()
    result = vdctui("vm", "list")
    assert result.exit_code == 1
    one_sentence(result.stderr, str(fleet), "emulate --fresh")
    assert fleet.exists() is (how != "deleted")  # nothing was built in its place
    fresh = vdctui("emulate", "--fresh", "--yes", "--hosts", "8", "--vms", "40", "--for", "1m")
    assert fresh.exit_code == 0, fresh.output
    assert stopped in {v["name"] for v in vdctui.json("vm", "list")}


def test_garbage_in_db_pages_is_named_with_its_table(vdctui: Vdctui) -> None:
    with sqlite3.connect(vdctui.db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'vms'").fetchone()[0]
        size = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    with open(vdctui.db, "r+b") as raw:
        raw.seek((root - 1) * size + 8)
        raw.write(b"\xde\xad\xbe\xef" * 200)
    listed = vdctui("vm", "list")
    assert listed.exit_code == 1
    one_sentence(listed.stderr, str(vdctui.db), "is damaged (table vms)", "integrity check")
    verified = vdctui("audit", "verify")
    assert verified.exit_code == 1, verified.output
    assert "is damaged (table vms)" in verified.stderr
