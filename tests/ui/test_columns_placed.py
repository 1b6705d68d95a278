"""Columns stay under their headings in every rendering: in the terminal, and in a picture
(SVG export), where a font may draw a glyph (a sparkline's blocks) wider or narrower than
a letter. Each cell of a paged table is placed at its own column, not pushed there by the
cells before it."""

from __future__ import annotations

import html
import re

from tests.ui.conftest import MakeApp, settle
from vdctui.ui.screens.vms import TREND_HEADINGS
from vdctui.ui.widgets.paged_table import PagedTable

TEXT = re.compile(r'<text class="[^"]*" x="([\d.]+)" y="([\d.]+)"[^>]*>([^<]*)</text>')


def svg_lines(svg: str) -> dict[float, list[tuple[float, str]]]:
    """Each line of the picture (by its y): its pieces of text, with the x each starts at."""
    lines: dict[float, list[tuple[float, str]]] = {}
    for x, y, text in TEXT.findall(svg):
        lines.setdefault(float(y), []).append((float(x), html.unescape(text).replace("\xa0", " ")))
    return lines


def start_of(pieces: list[tuple[float, str]], word: str) -> float:
    """The x where `word` starts, when it starts a piece of text of its own."""
    at = next((x for x, text in pieces if text.startswith(word)), None)
    assert at is not None, f"{word!r} is not placed on its own: {pieces}"
    return at


async def test_the_trend_cells_start_under_their_headings_in_a_picture(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=(160, 30)) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        for _ in range(3):  # a few syncs: the trends have samples
            await app.ops.sync()
        app.screen.refresh_data()  # type: ignore[attr-defined]
        await settle(pilot)
        app.clear_notifications()
        await pilot.pause()
        table = app.screen.query_one(PagedTable)
        rows = table.row_count
        assert rows > 5
        lines = svg_lines(app.export_screenshot())
        header_y = next(
            y for y, pieces in lines.items() if any("CPU TREND" in t for _, t in pieces)
        )
        header = lines[header_y]
        below = sorted(y for y in lines if y > header_y)[:rows]
        for heading in (h.upper() for h in TREND_HEADINGS):
            at = start_of(header, heading)
            for y in below:
                starts = [x for x, text in lines[y] if text.strip()]
                assert at in starts, f"no cell starts under {heading} (x={at}) on line {y}"
