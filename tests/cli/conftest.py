from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from vdctui.cli.main import main


class Vdctui:
    """Runs `vdctui --db <tmp> ...` in-process, like a user at a shell."""

    def __init__(self, db: Path) -> None:
        self.db = db
        self.runner = CliRunner()

    def __call__(self, *args: str, read_only: bool = False) -> Result:
        flags = ["--db", str(self.db)] + (["--read-only"] if read_only else [])
        return self.runner.invoke(main, [*flags, *args], catch_exceptions=False)

    def json(self, *args: str) -> list[dict]:  # type: ignore[type-arg]
        result = self("--json", *args)
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)


@pytest.fixture(scope="module")
def built_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small data center, built once per module and copied per test."""
    db = tmp_path_factory.mktemp("dc") / "vdctui.db"
    result = Vdctui(db)("emulate", "--hosts", "8", "--vms", "40", "--seed", "3", "--for", "1m")
    assert result.exit_code == 0, result.output
    return db


@pytest.fixture
def vdctui(built_db: Path, tmp_path: Path) -> Vdctui:
    for file in built_db.parent.iterdir():
        if not file.name.endswith(".lock"):
            (tmp_path / file.name).write_bytes(file.read_bytes())
    return Vdctui(tmp_path / built_db.name)
