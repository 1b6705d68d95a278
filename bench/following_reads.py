"""The request rows a console that follows the holder of the embedded fleet leaves in the
store (issue 10): on its services and snapshot-space screens it reads the hosts through
the holder at each refresh (every 2 s), one request row per read.

    python bench/following_reads.py                  # 8 hosts / 40 VMs, 60 s per screen
    python bench/following_reads.py --seconds 20 --vms 400

Prints, per screen, the requests written per minute, those still in the store at the
end, and the bytes their answers hold there. Measured 2026-12-01 (30 s per screen,
8 hosts / 40 VMs): 30 requests/min on each screen; before the fix every one was kept
(pruned only after a day: some 43,000 rows a day per screen and console, each with its
whole answer), now none is. `vdctui emulate` holds the fleet in its
own process; the console runs headless (Textual's Pilot) in this one.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from vdctui.store import Store  # noqa: E402

SCREENS = ("services", "snapshots")


def counted(db: Path) -> tuple[int, int, int]:
    """Requests written so far (the id sequence), kept now, and their answers' bytes."""
    with Store(db) as store:
        seq = store._db.execute(
            "SELECT seq FROM sqlite_sequence WHERE name = 'fleet_requests'"
        ).fetchone()
        kept, size = store._db.execute(
            "SELECT count(*), coalesce(sum(length(answer)), 0) FROM fleet_requests"
        ).fetchone()
    return (int(seq[0]) if seq else 0), int(kept), int(size)


async def on_screen(db: Path, screen: str, seconds: float) -> tuple[float, int, int]:
    """Requests per minute while a following console shows `screen`; kept; bytes."""
    from vdctui.ui.launch import console_app

    app = console_app(db)
    async with app.run_test(size=(160, 50)) as pilot:
        while not app.ops.follows_store:
            await pilot.pause(0.2)
        await pilot.press("colon")
        for char in screen:
            await pilot.press(char)
        await pilot.press("enter")
        await pilot.pause(1.0)
        written, _, _ = counted(db)
        began = time.monotonic()
        await pilot.pause(seconds)
        now, kept, size = counted(db)
        return (now - written) * 60.0 / (time.monotonic() - began), kept, size


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=8)
    parser.add_argument("--vms", type=int, default=40)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    vdctui = [sys.executable, "-m", "vdctui"]
    with tempfile.TemporaryDirectory(prefix="vdctui-bench-") as folder:
        db = Path(folder) / "vdctui.db"
        size = ["--hosts", str(args.hosts), "--vms", str(args.vms), "--seed", "3"]
        built = [*vdctui, "--db", str(db), "emulate", *size, "--for", "1m"]
        await (await asyncio.create_subprocess_exec(*built, env=env)).wait()
        holder = await asyncio.create_subprocess_exec(
            *vdctui, "--db", str(db), "emulate",
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE, env=env,
        )  # fmt: skip
        try:
            assert holder.stderr is not None
            await holder.stderr.readline()  # "Running in real time": it holds the fleet
            print(f"{args.hosts} hosts, {args.vms} VMs; {args.seconds:g} s per screen")
            for screen in SCREENS:
                per_minute, kept, size_b = await on_screen(db, screen, args.seconds)
                print(
                    f"{screen:>9}: {per_minute:5.1f} requests/min written; "
                    f"{kept} in the store after, {size_b:,} bytes of answers"
                )
        finally:
            holder.send_signal(signal.SIGINT)
            await holder.wait()


if __name__ == "__main__":
    asyncio.run(main())
