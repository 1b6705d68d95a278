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


SPARKS = "▁▂▃▄▅▆▇█"


def spark_text(values: list[float | None], width: int) -> str:
    """The last `width` samples (0..1) as plain blocks, a blank where one was not known;
    "-" when none was (unknown is never drawn as 0)."""
    shown = values[-width:]
    if all(v is None for v in shown):
        return "-"
    top = len(SPARKS) - 1
    return "".join(
        " " if v is None else SPARKS[min(int(min(max(v, 0.0), 1.0) * len(SPARKS)), top)]
        for v in shown
    )


def sparkline(values: list[float], width: int = 60) -> Text:
    """Utilization samples (0..1) as one line of blocks, on an absolute 0-100% scale."""
    line = Text()
    for value in values[-width:]:
        level = min(max(value, 0.0), 1.0)
        line.append(
            SPARKS[min(int(level * len(SPARKS)), len(SPARKS) - 1)],
            style="red" if level >= 0.9 else "green",
        )
    return line or Text("no samples yet", style="dim")
