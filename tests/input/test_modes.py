"""Files and keys: private keys are 0600 from their first byte, key folders 0700, and the
console's db, its WAL and SHM files, the fleet file and the lock are never world-readable
(0660 less the umask: a group may share a data center, see the README)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from emulator.sshd import SshFiles
from vdctui.cli.main import main
from vdctui.model import Role
from vdctui.store import Store


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The loosest umask a user could have: nothing may rely on it."""
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def test_keys_are_private_from_the_first_byte(
    tmp_path: Path, open_umask: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_chmod_after_writing(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("written first, chmod'ed after")

    monkeypatch.setattr(os, "chmod", no_chmod_after_writing)
    files = SshFiles(tmp_path / "inv.keys")
    files.client_key()
    files.host_keys(["rk1-h01", "rk1-h02"])
    monkeypatch.undo()
    keys = tmp_path / "inv.keys"
    assert mode(keys) == 0o700
    assert mode(keys / "host_keys") == 0o700
    assert mode(keys / "client_key") == 0o600
    assert {mode(key) for key in (keys / "host_keys").iterdir()} == {0o600}
    again = SshFiles(keys)  # a restart reads the same keys back
    assert again.client_key().export_public_key() == files.client_key().export_public_key()


def test_an_existing_key_folder_is_made_private(tmp_path: Path) -> None:
    keys = tmp_path / "inv.keys"
    keys.mkdir(mode=0o755)
    keys.chmod(0o755)
    SshFiles(keys).client_key()
    assert mode(keys) == 0o700


def test_the_store_and_its_wal_are_private(tmp_path: Path, open_umask: None) -> None:
    db = tmp_path / "vdctui.db"
    store = Store(db)
    try:
        store.append_audit(actor="a", role=Role.ADMIN, action="vm.start", target="x")
        files = [db, Path(f"{db}-wal"), Path(f"{db}-shm")]
        assert all(f.exists() for f in files)
        assert {f.name: mode(f) for f in files} == {f.name: 0o660 for f in files}
    finally:
        store.close()


def test_a_new_data_center_is_private(tmp_path: Path, open_umask: None) -> None:
    folder = tmp_path / "dc"
    db = folder / "vdctui.db"
    result = CliRunner().invoke(
        main, ["--db", str(db), "emulate", "--hosts", "4", "--vms", "8", "--for", "1m"]
    )
    assert result.exit_code == 0, result.output
    assert mode(folder) == 0o770
    made = sorted(folder.iterdir())
    assert {p.name for p in made} >= {"vdctui.db", "vdctui.fleet.db", "vdctui.fleet.db.lock"}
    assert {p.name: mode(p) for p in made} == {p.name: 0o660 for p in made}


def test_a_private_umask_makes_private_files(tmp_path: Path) -> None:
    old = os.umask(0o077)
    try:
        store = Store(tmp_path / "vdctui.db")
        store.append_audit(actor="a", role=Role.ADMIN, action="vm.start", target="x")
        made = sorted(tmp_path.iterdir())
        assert {p.name: mode(p) for p in made} == {p.name: 0o600 for p in made}
        store.close()
    finally:
        os.umask(old)
