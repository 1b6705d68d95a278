"""The holder's first sync reads what the store holds a page at a time, the event loop
free between two pages (at 100,000 VMs one read held it for seconds), and reads it all."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from vdctui.backend import fixed_console
from vdctui.ops import reconcile
from vdctui.ops.reconcile import Reconciler


def test_the_first_read_of_the_store_is_paged_and_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    console, _clock = fixed_console(tmp_path / "v.db", hosts=4, vms=30)
    monkeypatch.setattr(reconcile, "READ_PAGE", 7)

    async def main() -> tuple[dict[str, object], int]:
        await console.sync()
        turns = 0

        async def count_turns() -> None:
            nonlocal turns
            while True:
                turns += 1
                await asyncio.sleep(0)

        counting = asyncio.get_running_loop().create_task(count_turns())
        await asyncio.sleep(0)
        seen = await Reconciler(console.store)._read_seen()
        counting.cancel()
        return dict(seen), turns

    seen, turns = asyncio.run(main())
    assert seen == {vm.name: vm for vm in console.store.vms()}
    assert len(seen) == 30
    assert turns >= 30 // 7  # the loop ran between the pages
