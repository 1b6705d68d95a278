"""VM workload models and the per-VM random streams that drive them.

A spec is a string: "constant:0.3", "walk:0.3" (mean-reverting random walk
around 0.3, optional step size "walk:0.3:0.05") or "trace:NAME" (a trace
registered with `Fleet.add_trace`). Random numbers come from a splitmix64
stream per VM, seeded from (fleet seed, VM name) with blake2b, never `hash()`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from .errors import InvalidOperation

MASK64 = (1 << 64) - 1
WALK_PERIOD_S = 10.0  # a random-walk VM changes its utilization every 10 virtual seconds


@dataclass(frozen=True, slots=True)
class Workload:
    kind: str  # "constant" | "walk" | "trace"
    level: float = 0.0  # constant level, or the walk's mean
    step: float = 0.05  # walk step size
    trace: str = ""


@dataclass(frozen=True, slots=True)
class Trace:
    """Utilization values (0..1), one every `interval_s` seconds, played in a loop. Each
    VM starts a trace at its own random point, unless it is `aligned`: a recorded day
    plays at the fleet clock's time of day on every VM (value k at k x interval_s past
    midnight UTC, for a day of values), as it was recorded."""

    name: str
    values: tuple[float, ...]
    interval_s: float
    aligned: bool = False

    PERSIST = ("name", "values", "interval_s", "aligned")


def parse_workload(spec: str) -> Workload:
    """Parse a workload spec, or refuse it in one sentence."""
    kind, _, rest = spec.strip().partition(":")
    kind = kind.lower()
    try:
        if kind == "constant":
            level = _fraction(rest)
            return Workload("constant", level)
        if kind == "walk":
            mean, _, step = rest.partition(":")
            return Workload("walk", _fraction(mean), float(step) if step else 0.05)
        if kind == "trace" and rest:
            return Workload("trace", trace=rest)
    except ValueError:
        pass
    raise InvalidOperation(
        f"Workload {spec!r} is not valid: use constant:U, walk:U or trace:NAME with U in 0..1."
    )


def _fraction(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise ValueError(text)
    return value


def make_trace(
    name: str, values: list[float] | tuple[float, ...], interval_s: float, aligned: bool = False
) -> Trace:
    if not name:
        raise InvalidOperation("A trace needs a name.")
    if not values:
        raise InvalidOperation(f"Trace {name!r} has no values.")
    if interval_s <= 0:
        raise InvalidOperation(f"Trace {name!r} needs a sampling interval above 0 seconds.")
    vals = tuple(float(v) for v in values)
    if any(not 0.0 <= v <= 1.0 for v in vals):
        raise InvalidOperation(f"Trace {name!r} has utilization values outside 0..1.")
    return Trace(name, vals, float(interval_s), aligned)


def stream_seed(seed: int, *parts: str) -> int:
    """A 64-bit seed from the fleet seed and names, stable across processes."""
    text = ":".join([str(seed), *parts]).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "little")


def next_random(state: int) -> tuple[int, float]:
    """splitmix64: return (new state, uniform float in [0, 1))."""
    state = (state + 0x9E3779B97F4A7C15) & MASK64
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    z ^= z >> 31
    return state, (z >> 11) * (1.0 / 9007199254740992.0)


def walk_next(util: float, mean: float, step: float, u: float) -> float:
    """One step of a mean-reverting random walk, clamped to 0..1."""
    util += 0.2 * (mean - util) + (u - 0.5) * 2.0 * step
    if util < 0.0:
        return 0.0
    if util > 1.0:
        return 1.0
    return util
