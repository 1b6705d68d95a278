"""The VMs table's status line, fitted to its one row: the figures' age and the marks
(hidden by the filter, too) stay; the hint, the sort, the filter's length and the
labels go first (vdctui.ui.widgets.fitting)."""

from __future__ import annotations

from rich.text import Text

from vdctui.ops.figures import FiguresAge
from vdctui.ui.widgets.fitting import Part, fitted, part

FILTER_SHOWN = 20
"""Characters of a long filter kept when the line is short of room."""
SHRINK = ("marked", "sort", "figures", "filter", "range", "sort", "marked", "range")
"""What shrinks first, one form a step."""


def vm_status(
    shown: tuple[int, int, int],
    query: str,
    sort: str,
    figures: FiguresAge,
    now: float,
    marked: tuple[int, int],
    width: int,
) -> Text:
    """`shown`: the first and last row shown and the total; `sort`: the heading and its
    arrow; `marked`: how many are marked, and how many of them the filter hides."""
    first, last, total = shown
    parts: dict[str, Part] = {
        "range": part(
            f"VMs {first:,}-{last:,} of {total:,}", f"{first:,}-{last:,} of {total:,}", ""
        ),
    }
    if query:
        cut = query if len(query) <= FILTER_SHOWN else query[: FILTER_SHOWN - 1] + "…"
        parts["filter"] = part(f"filter: {query}", f"filter: {cut}")
    parts["sort"] = part(f"sorted by {sort}", sort, "")
    aged = figures.as_read("cpu% and trends", now)
    if aged:  # between two whole syncs of a big fleet
        parts["figures"] = part(aged, figures.note(now), style="yellow")
    count, hidden = marked
    if count:
        said = f"{count} marked" + (f", {hidden} hidden by the filter" if hidden else "")
        short = f"{count} marked" + (f", {hidden} hidden" if hidden else "")
        parts["marked"] = part(f"{said} (u unmarks all)", said, short)
    return fitted(parts, SHRINK, width, first=("marked", "figures", "filter"))
