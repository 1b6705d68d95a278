"""SPECpower-style power curves: watts at 0, 10, ..., 100 % load, linear in between."""

from __future__ import annotations

from collections.abc import Sequence

from .errors import InvalidOperation


def check_curve(curve: Sequence[float]) -> tuple[float, ...]:
    """Return the curve as a tuple of 11 floats, or refuse it."""
    values = tuple(float(v) for v in curve)
    if len(values) != 11:
        raise InvalidOperation("A power curve needs 11 values: watts at 0, 10, ..., 100 % load.")
    if any(v < 0 for v in values):
        raise InvalidOperation("A power curve cannot have negative watts.")
    return values


def power_at(curve: Sequence[float], util: float) -> float:
    """Watts drawn at `util` (0..1), interpolated linearly between the 10 % steps."""
    if util <= 0.0:
        return curve[0]
    if util >= 1.0:
        return curve[10]
    pos = util * 10.0
    i = int(pos)
    frac = pos - i
    return curve[i] + (curve[i + 1] - curve[i]) * frac
