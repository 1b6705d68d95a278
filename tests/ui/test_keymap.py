from __future__ import annotations

from pathlib import Path

import pytest

from tests.ui.conftest import SIZE, settle
from vdctui.backend import fixed_console
from vdctui.ui.app import Launch, VdcApp
from vdctui.ui.keymap import load_keymap


def test_a_missing_keymap_is_empty(tmp_path: Path) -> None:
    assert load_keymap(tmp_path / "none.toml") == {}


def test_a_bad_keymap_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "keymap.toml"
    path.write_text('"vm.destroy" = 3\n')
    with pytest.raises(ValueError, match="keymap.toml"):
        load_keymap(path)
    path.write_text("not toml [")
    with pytest.raises(ValueError, match="cannot be read"):
        load_keymap(path)


async def test_a_remapped_key_opens_the_vms(tmp_path: Path) -> None:
    path = tmp_path / "keymap.toml"
    path.write_text('"screen.vms" = "v"\n')
    console, clock = fixed_console(tmp_path / "vdctui.db", hosts=4, vms=10)
    app = VdcApp(Launch(console=console, clock=clock, keymap_path=path))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("v")
        await settle(pilot)
        assert app.current_mode == "vms"
