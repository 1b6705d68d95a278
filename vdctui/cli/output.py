"""How the CLI prints: aligned text tables for people, JSON arrays for programs."""

from __future__ import annotations

import dataclasses
import enum
import json
import math
import shlex
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import click

from vdctui.columns import Column, cell
from vdctui.escape import for_terminal


def plain(value: Any) -> Any:
    """A domain object as JSON-ready data: dataclasses to dicts, enums to their value."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None  # JSON has no NaN or Infinity: a number that is not one is unknown
    return value


def print_json(items: Iterable[Any]) -> None:
    """A JSON array (ASCII only, so no byte of it can drive a terminal)."""
    click.echo(json.dumps([plain(item) for item in items], indent=2, allow_nan=False))


_held: list[tuple[str, str]] = []  # a note said before the next line on stderr, if any:
# whole, or only its part that explains a refusal by role


def hold_note(text: str, *, if_refused: str = "") -> None:
    """Say `text` on stderr just before the next line said there, or once the command is
    done (`say_held_note`); only `if_refused` when the command is refused by the role
    before it asked anything: who holds the data center is no matter then."""
    _held[:] = [(text, if_refused)]


def say_held_note(*, refused_by_role: bool = False) -> None:
    while _held:
        text, if_refused = _held.pop()
        said = if_refused if refused_by_role else text
        if said:
            click.echo(for_terminal(said), err=True)


def forget_note() -> None:
    _held.clear()


def say(text: str, *, err: bool = False, nl: bool = True) -> None:
    """Print one line that may hold names or errors from outside, escaped."""
    if err:
        say_held_note()
    click.echo(for_terminal(text), err=err, nl=nl)


def print_table(items: Sequence[Any], columns: Sequence[Column], *, empty: str) -> None:
    if not items:
        click.echo(empty)
        return
    rows = [[cell(get(item)) for _, get in columns] for item in items]
    headers = [header for header, _ in columns]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    click.echo("  ".join(h.upper().ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
    for row in rows:
        click.echo("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def print_list(
    items: Sequence[Any], columns: Sequence[Column], *, as_json: bool, empty: str
) -> None:
    if as_json:
        print_json(items)
    else:
        print_table(items, columns, empty=empty)


def nothing_matches(noun: str, filters: Mapping[str, object], *, empty: str) -> str:
    """What an empty list says: `empty` when nothing filtered it, else which filter matched
    nothing (`No VM matches --pool db --state running.`), as the operator would retype it."""
    given = [
        _as_option(name, value) for name, value in filters.items() if value not in (None, False)
    ]
    if not given:
        return empty
    return f"No {noun} matches {' '.join(given)}."


def _as_option(name: str, value: object) -> str:
    option = "--" + name.replace("_", "-")
    if value is True:
        return option
    text = str(value.value if isinstance(value, enum.Enum) else value)
    if not text.isprintable():
        text = text.encode("unicode_escape").decode("ascii")
    return f"{option} {shlex.quote(text)}"
