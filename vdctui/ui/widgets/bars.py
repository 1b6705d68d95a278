"""Capacity bars drawn as Rich text: used / allocated / capacity at a glance."""

from __future__ import annotations

from rich.text import Text

FULL, PART, EMPTY = "█", "▒", "░"


def capacity_bar(used: float, allocated: float, capacity: float, width: int = 30) -> Text:
    """█ used, ▒ allocated but not used, ░ free; past capacity the bar turns red."""
    if capacity <= 0:
        return Text(EMPTY * width, style="dim")
    used_cells = min(width, round(width * used / capacity))
    alloc_cells = min(width, max(used_cells, round(width * allocated / capacity)))
    hot = used / capacity >= 0.9 or allocated > capacity
    bar = Text()
    bar.append(FULL * used_cells, style="red" if hot else "green")
    bar.append(PART * (alloc_cells - used_cells), style="yellow")
    bar.append(EMPTY * (width - alloc_cells), style="dim")
    return bar


def ratio_bar(value: float, limit: float, width: int = 30) -> Text:
    return capacity_bar(value, value, limit, width)
