"""A host added to the inventory file is managed after `:reload` (or at the next start)."""

from __future__ import annotations

import re

import pytest

import emulator
from tests.ssh.served import serve
from vdctui.backend_ssh import reload_inventory, ssh_console
from vdctui.ops import Refused


def without_host(text: str, name: str) -> str:
    """The inventory text without the [[hosts]] table of `name`."""
    tables = re.split(r"(?m)^(?=\[\[hosts\]\])", text)
    return "".join(t for t in tables if f'name = "{name}"' not in t)


async def test_a_host_added_to_the_file_appears_at_reload(tmp_path) -> None:  # type: ignore[no-untyped-def]
    fleet = emulator.build_demo(seed=2, hosts=3, vms=6)
    served = await serve(fleet)
    path = served.inventory.path
    full = path.read_text()
    path.write_text(without_host(full, "rk1-h03"))
    console = ssh_console(tmp_path / "c.db", path)
    try:
        await console.sync()
        assert sorted(h.name for h in console.hosts()) == ["rk1-h01", "rk1-h02"]
        path.write_text(full)
        added = await reload_inventory(console)
        assert added == ["rk1-h03"]
        assert sorted(h.name for h in console.hosts()) == ["rk1-h01", "rk1-h02", "rk1-h03"]
        assert {h.state.value for h in console.hosts()} == {"up"}
        path.write_text("[[hosts]]\nname = 1\n")
        with pytest.raises(Refused, match="inventory.toml line 1: host has no 'site'"):
            await reload_inventory(console)
        assert len(console.hosts()) == 3  # the console goes on with the last good one
    finally:
        await console.close()
        await served.close()
