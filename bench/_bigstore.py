"""Build (once, cached in a temp dir) a data center of 10,000 hosts and 100,000 VMs whose
console store is synced: the starting point of the UI benchmarks."""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

from vdctui.backend import DemoSize, open_console

CACHE = Path(tempfile.gettempdir()) / "vdctui-bench-100k"


def big_db(hosts: int = 10_000, vms: int = 100_000) -> Path:
    db = CACHE / f"h{hosts}-v{vms}" / "vdctui.db"
    if db.exists():
        return db

    async def build() -> None:
        began = time.perf_counter()
        console = await open_console(db, size=DemoSize(hosts, vms, 0), speed=None)
        await console.sync()
        await console.close()
        print(
            f"setup: built and synced {hosts:,} hosts / {vms:,} VMs in "
            f"{time.perf_counter() - began:.1f} s ({db})"
        )

    asyncio.run(build())
    return db
