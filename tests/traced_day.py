"""Folders of CPU traces as PlanetLab's are (one file per VM, a percentage a line every
5 minutes), written for tests."""

from __future__ import annotations

import random
from pathlib import Path

SAMPLES = 288  # a day of 5-minute samples


def write_day(folder: Path, traces: dict[str, list[int]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, values in traces.items():
        (folder / name).write_text("".join(f"{v}\n" for v in values))
    return folder


def random_day(folder: Path, count: int, seed: int = 0) -> Path:
    """`count` traces that wander between 0 and 100 % over a day, seeded."""
    rng = random.Random(seed)
    traces = {}
    for k in range(count):
        level, values = rng.randint(0, 60), []
        for _ in range(SAMPLES):
            level = min(100, max(0, level + rng.randint(-15, 15)))
            values.append(level)
        traces[f"node-{k:03d}_planetlab_example_org"] = values
    return write_day(folder, traces)
