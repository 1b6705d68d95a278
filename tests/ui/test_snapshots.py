"""Snapshots of the main screens at 160x48, and of some at 100x30 (the console must be
usable in a small terminal), on the seeded demo data center.

After a deliberate change to a screen: `pytest tests/ui/test_snapshots.py --snapshot-update`,
then look at the new pictures (`python screenshots/make.py`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot

from tests.ui.scenes import SCENES, quiet
from vdctui.ui.fixed import fixed_app

SNAPSHOTTED = [
    "inventory-host",
    "vms-filtered",
    "vm-detail",
    "migrate-dialog",
    "pools",
    "tasks",
    "audit",
]
SMALL = ["inventory-host", "vms", "vm-detail"]


@pytest.mark.parametrize("scene", SNAPSHOTTED)
def test_screen_looks_as_it_did(scene: str, snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot: Pilot[None]) -> None:
        await SCENES[scene](pilot)
        await quiet(pilot)

    app = fixed_app(tmp_path / "vdctui.db")
    assert snap_compare(app, terminal_size=(160, 48), run_before=run_before)


@pytest.mark.parametrize("scene", SMALL)
def test_small_screen_looks_as_it_did(scene: str, snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot: Pilot[None]) -> None:
        await SCENES[scene](pilot)
        await quiet(pilot)

    app = fixed_app(tmp_path / "vdctui.db")
    assert snap_compare(app, terminal_size=(100, 30), run_before=run_before)
