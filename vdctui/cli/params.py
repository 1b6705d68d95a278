"""Click types for the numbers operators type: finite, in range, one sentence if not.

click's own IntRange(1) lets 99999999999999999999 through, and FloatRange lets
nan through (every comparison with NaN is false); these check with
`vdctui.checks`, so the CLI, the TUI and the files refuse the same values.
"""

from __future__ import annotations

from typing import Any

import click

from vdctui import checks


def _what(param: click.Parameter | None) -> str:
    if param is None:
        return "The value"
    return param.opts[-1] if param.opts else (param.name or "The value").upper()


class WholeNumber(click.ParamType):
    """An int from `low` to `high`."""

    name = "integer"

    def __init__(self, low: int, high: int, unit: str = "") -> None:
        self.low, self.high, self.unit = low, high, unit

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        try:
            return checks.whole_number(
                value, _what(param), low=self.low, high=self.high, unit=self.unit
            )
        except checks.BadInput as exc:
            raise click.UsageError(str(exc), ctx) from None

    def get_metavar(self, param: click.Parameter, ctx: click.Context) -> str:
        return f"INTEGER {self.low}..{self.high}"


class FiniteNumber(click.ParamType):
    """A finite float from `low` to `high` (never nan or inf)."""

    name = "number"

    def __init__(self, low: float, high: float, unit: str = "") -> None:
        self.low, self.high, self.unit = low, high, unit

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        try:
            return checks.finite_number(
                value, _what(param), low=self.low, high=self.high, unit=self.unit
            )
        except checks.BadInput as exc:
            raise click.UsageError(str(exc), ctx) from None

    def get_metavar(self, param: click.Parameter, ctx: click.Context) -> str:
        return f"NUMBER {self.low:g}..{self.high:g}"


class Name(click.ParamType):
    """A name the console will create (VM, pool, affinity group): the one grammar."""

    name = "name"

    def __init__(self, what: str) -> None:
        self.what = what

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        try:
            return checks.name(value, self.what)
        except checks.BadInput as exc:
            raise click.UsageError(str(exc), ctx) from None


ROWS = WholeNumber(1, checks.MAX_ROWS)
SPEED = FiniteNumber(checks.MIN_SPEED, checks.MAX_SPEED)
