"""`vdctui audit seal init|status` and `audit verify --key`, as an auditor uses them."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.cli.conftest import Vdctui
from tests.store import tamper


def seal(vdctui: Vdctui, tmp_path: Path) -> Path:
    result = vdctui("audit", "seal", "init")
    assert result.exit_code == 0, result.output
    key = result.stdout.strip()
    assert key.startswith("vdctui-seal1:") and "\n" not in key
    assert "shown once" in result.stderr
    key_file = tmp_path / "auditor.key"
    key_file.write_text(key + "\n")
    return key_file


def test_seal_then_verify_with_the_key(vdctui: Vdctui, tmp_path: Path) -> None:
    key_file = seal(vdctui, tmp_path)
    vdctui("vm", "start", "ghost")  # a refusal: one more record
    plain = vdctui("audit", "verify")
    assert plain.exit_code == 0 and "seal was not checked" in plain.stdout
    result = vdctui("audit", "verify", "--key-file", str(key_file))
    assert result.exit_code == 0, result.output
    assert "Every seal holds." in result.stdout and "current epoch" in result.stdout
    same = vdctui("audit", "verify", "--key", key_file.read_text().strip())
    assert same.exit_code == 0
    data = json.loads(vdctui("--json", "audit", "verify", "--key-file", str(key_file)).stdout)
    assert data["seal_checked"] is True and data["problems"] == []
    assert data["records"] >= 2 and len(data["head_hash"]) == 64
    assert "Sealed since" in vdctui("audit", "seal", "status").stdout


def test_a_rewrite_with_the_chain_recomputed_fails_only_with_the_key(
    vdctui: Vdctui, tmp_path: Path
) -> None:
    key_file = seal(vdctui, tmp_path)
    for _ in range(3):
        vdctui("vm", "start", "ghost")
    with sqlite3.connect(vdctui.db) as conn:
        tamper.rewrite(conn, 2, actor="mallory")
    assert vdctui("audit", "verify").exit_code == 0  # the chain was recomputed
    result = vdctui("audit", "verify", "--key-file", str(key_file))
    assert result.exit_code == 1
    assert "record 2: record 2 was rewritten" in result.stderr


def test_sealing_twice_is_refused_and_audited(vdctui: Vdctui, tmp_path: Path) -> None:
    seal(vdctui, tmp_path)
    again = vdctui("audit", "seal", "init")
    assert again.exit_code == 1 and "already sealed" in again.stderr and again.stdout == ""
    last = vdctui.json("audit", "list", "--limit", "1")[0]
    assert last["action"] == "audit.seal" and last["result"] == "refused"
    assert vdctui("audit", "seal", "init", "--replace").exit_code == 0


def test_sealing_needs_the_admin_role(vdctui: Vdctui, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VDCTUI_ROLE", "operator")
    result = vdctui("audit", "seal", "init")
    assert result.exit_code == 1 and "admin" in result.stderr and result.stdout == ""
    assert "not sealed" in vdctui("audit", "seal", "status").stdout


def test_bad_keys_and_epochs_are_one_sentence(vdctui: Vdctui, tmp_path: Path) -> None:
    bad = vdctui("audit", "verify", "--key", "hunter2")
    assert bad.exit_code == 1 and "not a vdctui seal key" in bad.stderr
    assert "Traceback" not in bad.output
    both = vdctui("audit", "verify", "--key", "x", "--key-file", str(tmp_path / "k"))
    assert both.exit_code == 2
    for epoch in ("0s", "nan", "2d", "abc"):
        result = vdctui("audit", "seal", "init", "--epoch", epoch)
        assert result.exit_code == 2, epoch
