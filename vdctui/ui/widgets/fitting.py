"""A status line that fits its width, keeping the words that matter most.

Each part of the line has its forms, longest first (a last empty form: the part may go).
While the line is wider than its room, the parts shrink one step at a time in the order
given, the least important first; a part given one form never shrinks (READ-ONLY, STALE).
If the line is still too wide after every step, the parts named `first` are put at the
start of the line (so that what the terminal crops at the edge is the rest).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rich.text import Text


@dataclass(frozen=True)
class Part:
    """One part of the line: its forms, longest first, and what separates it from the
    part before it."""

    forms: tuple[Text, ...]
    sep: str = "  "


def part(*forms: str | Text, style: str = "", sep: str = "  ") -> Part:
    """A part whose forms are all drawn in `style` ("" forms: it may go)."""
    return Part(
        tuple(form if isinstance(form, Text) else Text(form, style=style) for form in forms),
        sep,
    )


def joined(parts: Sequence[Part], at: Sequence[int]) -> Text:
    """The line with each part in the form `at` says (empty forms left out)."""
    line = Text()
    for each, index in zip(parts, at, strict=True):
        form = each.forms[index]
        if form.plain:
            if line.plain:
                line.append(each.sep)
            line.append_text(form)
    return line


def fitted(
    parts: Mapping[str, Part],
    shrink: Sequence[str],
    width: int,
    *,
    start: Mapping[str, int] | None = None,
    first: Sequence[str] = (),
) -> Text:
    """The line of `parts` (in their order) in at most `width` cells if it can be: each
    name in `shrink` takes its part one form shorter, until the line fits. `start`: the
    form each part begins with (0: its longest)."""
    names = list(parts)
    at = {name: min((start or {}).get(name, 0), len(parts[name].forms) - 1) for name in names}

    def line(order: Sequence[str]) -> Text:
        return joined([parts[n] for n in order], [at[n] for n in order])

    shown = line(names)
    for name in shrink:
        if shown.cell_len <= width:
            return shown
        if name in at and at[name] + 1 < len(parts[name].forms):
            at[name] += 1
            shown = line(names)
    if shown.cell_len <= width:
        return shown
    ahead = [name for name in first if name in parts]
    return line(ahead + [name for name in names if name not in ahead])
