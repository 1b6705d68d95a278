"""A sync compares each VM's uptime as precisely as it is shown (`format_duration`),
cheaply: the mark changes exactly where the text does (up to rounding at a boundary)."""

from __future__ import annotations

from vdctui.ops.reconcile import shown_uptime
from vdctui.units import format_duration


def test_the_uptime_mark_changes_where_the_uptime_shown_changes() -> None:
    step = 0.01
    seconds = [i * step for i in range(0, 100_000)]  # 0 .. 1,000 s by 10 ms
    seconds += [1000.0 + i * 0.7 for i in range(0, 300_000)]  # .. ~2.4 days
    differ = 0
    for before, after in zip(seconds, seconds[1:], strict=False):
        text_changed = format_duration(before) != format_duration(after)
        mark_changed = shown_uptime(before) != shown_uptime(after)
        differ += text_changed != mark_changed
    assert differ <= 2  # at 10 s and 60 s the text rounds up ("10.0s", "60s") a step early
