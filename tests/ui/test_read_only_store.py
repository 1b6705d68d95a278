"""The console for a user who cannot write the store: READ-ONLY, told so, and it shows
what the store holds instead of failing."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.conftest import Vdctui
from tests.ui.conftest import SIZE, notes, settle
from vdctui.ui.launch import console_app


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "vdctui.db"
    built = Vdctui(path)("emulate", "--hosts", "4", "--vms", "12", "--seed", "3", "--for", "1m")
    assert built.exit_code == 0, built.output
    return path


async def test_an_unwritable_store_opens_a_read_only_console(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("vdctui.store.connection.can_write", lambda path: False)
    app = console_app(db)
    assert not app.ops.store.writable
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        assert "READ-ONLY" in str(app.screen.header.render())
        assert any("cannot write" in n and "read-only" in n for n in notes(app))
        assert len(app.ops.vms()) == 12
        assert app.synced_at == app.ops.store_seen_at()  # the age of what the store holds
        assert not any("error" in n.lower() for n in notes(app))


async def test_a_read_only_console_beside_the_one_that_holds_the_fleet(db: Path) -> None:
    from vdctui.backend import FleetLock, fleet_path

    holder = FleetLock(fleet_path(db), db)
    holder.acquire()  # as another console would (a lock on its own open file)
    try:
        for app in (console_app(db, read_only=True), console_app(db)):  # any role reads
            async with app.run_test(size=SIZE) as pilot:
                await settle(pilot)
                await pilot.press("2")
                await settle(pilot)
                header = str(app.screen.header.render())
                assert any("holds the data center" in n for n in notes(app))
                assert len(app.ops.vms()) == 12
                if app.ops.identity.role.value == "viewer":
                    assert "READ-ONLY" in header
                else:  # its changes are handed to the holder (tests/ui/test_shared_fleet.py)
                    assert "READ-ONLY" not in header
                    assert any("carries out your changes" in n for n in notes(app))
    finally:
        holder.release()
