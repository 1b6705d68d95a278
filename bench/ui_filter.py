"""A keystroke in the VMs filter at 100,000 VMs to the repainted table (target < 100 ms
median), and scrolling a page likewise.

The console runs headless (Textual's Pilot) over a store of 10,000 hosts and 100,000
VMs; each figure is the time from pressing a key to the screen having settled.

    python bench/ui_filter.py [--hosts 10000 --vms 100000]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


async def measure(db: Path) -> None:
    from textual.geometry import Region

    from vdctui.backend import open_store_console
    from vdctui.ui.app import Launch, VdcApp
    from vdctui.ui.screens.vms import VmsScreen

    console, lock = open_store_console(db)  # the store only: no fleet syncs in the way
    app = VdcApp(Launch(console=console, connect=_never))
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.press("2")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, VmsScreen)

        async def timed(*keys: str) -> float:
            began = time.perf_counter()
            await pilot.press(*keys)
            await pilot.pause()
            return time.perf_counter() - began

        await pilot.press("slash")
        await pilot.press(*"w")
        await pilot.pause()
        # what a key costs the harness alone: the cursor moving in the filter box
        idle = [await timed(key) for key in ["left", "right"] * 8]
        keystrokes = [await timed(ch) for ch in "eb-0123"]
        typed_status = str(screen.query_one("#vm-status").render())
        await pilot.press("escape")
        await pilot.pause()
        for ch in "state:running":
            await timed(ch)
        await pilot.press("enter")
        await pilot.pause()
        pages = [await timed("pagedown") for _ in range(30)]
        table = screen.table
        region = Region(0, 0, table.size.width, table.size.height)
        direct = []
        for query in ["w", "we", "web", "web-", "web-0", "web-01", "web-012", "web-0123"]:
            began = time.perf_counter()
            screen.apply_filter(query)  # count + one page from SQLite, the table refilled
            table.render_lines(region)  # and every line of it drawn
            direct.append(time.perf_counter() - began)
        ends = [await timed("end"), await timed("home")]
        sorts = [await timed("o") for _ in range(8)]
    lock.release()
    ms = [1000 * t for t in direct]
    print(
        f"filter query + table redraw, measured in the app: median "
        f"{statistics.median(ms):.1f} ms, max {max(ms):.1f} ms over {len(ms)} queries"
    )
    base = 1000 * statistics.median(idle)
    ms = [1000 * t for t in keystrokes]
    print(f"harness alone (a key that only moves the filter's cursor): median {base:.1f} ms")
    print(
        f"filter keystroke -> repainted table: median {statistics.median(ms):.1f} ms "
        f"({statistics.median(ms) - base:.1f} ms beyond the harness), max {max(ms):.1f} ms "
        f"over {len(ms)} keys (target < 100 ms); last: {typed_status}"
    )
    ms = [1000 * t for t in pages]
    print(
        f"page down (state:running): median {statistics.median(ms):.1f} ms "
        f"({statistics.median(ms) - base:.1f} ms beyond the harness), max {max(ms):.1f} ms "
        f"over {len(ms)} pages"
    )
    print(
        f"end / home: {1000 * ends[0]:.1f} ms / {1000 * ends[1]:.1f} ms; "
        f"sort by each column: median {1000 * statistics.median(sorts):.1f} ms, "
        f"max {1000 * max(sorts):.1f} ms"
    )


async def _never() -> None:
    await asyncio.Event().wait()  # the fleet never connects: only the store is measured


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hosts", type=int, default=10_000)
    parser.add_argument("--vms", type=int, default=100_000)
    args = parser.parse_args()
    from _bigstore import big_db

    asyncio.run(measure(big_db(args.hosts, args.vms)))


if __name__ == "__main__":
    main()
