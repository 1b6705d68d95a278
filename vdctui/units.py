"""Parse and print the sizes and durations operators type."""

from __future__ import annotations

import math
import re

from vdctui.checks import MAX_DURATION_S, MAX_MEMORY_MIB, shown

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]i?b?|b)?\s*$", re.IGNORECASE)
_MIB_PER_UNIT = {"": 1.0, "b": 1 / 1024**2, "k": 1 / 1024, "m": 1.0, "g": 1024.0, "t": 1024.0**2}

_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?", re.IGNORECASE)
_SECONDS_PER_UNIT = {"ms": 0.001, "s": 1.0, "": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_memory_mib(text: str) -> int:
    """'8GiB', '8G', '512MiB', '512' (MiB) -> MiB. Raises ValueError in one sentence."""
    match = _SIZE.match(str(text))
    if not match:
        raise ValueError(f"{shown(text)} is not a memory size (try 512MiB, 8GiB or 2TiB).")
    number, unit = match.groups()
    mib = float(number) * _MIB_PER_UNIT[(unit or "")[:1].lower()]
    if not math.isfinite(mib) or mib > MAX_MEMORY_MIB:
        raise ValueError(f"{shown(text)} is more memory than any host has (1 PiB at most).")
    if mib < 1 or mib != int(mib):
        raise ValueError(f"{shown(text)} is not a whole number of MiB.")
    return int(mib)


def parse_duration_s(text: str) -> float:
    """'90', '90s', '15m', '2h', '1h30m', '1d' -> seconds. Raises ValueError."""
    cleaned = str(text).strip().replace(" ", "")
    parts = _DURATION.findall(cleaned)
    if not cleaned or "".join(n + u for n, u in parts) != cleaned:
        raise ValueError(f"{shown(text)} is not a duration (try 90s, 15m, 2h or 1d).")
    seconds = sum(float(n) * _SECONDS_PER_UNIT[u.lower()] for n, u in parts)
    if not math.isfinite(seconds) or seconds > MAX_DURATION_S:
        raise ValueError(f"{shown(text)} is longer than a century.")
    return seconds


def _figure(x: float) -> str:
    """Three significant digits at most below 100, whole numbers (with commas) above:
    1.25, 31.5, 512, 1,010 -- never an exponent."""
    if abs(x) >= 100:
        return f"{x:,.0f}"
    digits = 1 if abs(x) >= 10 else 2
    return f"{x:.{digits}f}".rstrip("0").rstrip(".")


def format_mib(mib: float) -> str:
    """4096 -> '4 GiB', 1536 -> '1.5 GiB', 512 -> '512 MiB', 1010 GiB -> '1,010 GiB'."""
    if abs(mib) >= 1024 * 1024:
        return f"{_figure(mib / 1024 / 1024)} TiB"
    if abs(mib) >= 1024:
        return f"{_figure(mib / 1024)} GiB"
    return f"{mib:.0f} MiB"


def format_gib(gib: float) -> str:
    """A size given in GiB (disks, datastores), like `format_mib`."""
    return format_mib(gib * 1024)


def format_bytes(n: float) -> str:
    return format_mib(n / 1024 / 1024) if n >= 1024 * 1024 else f"{n:.0f} B"


UNKNOWN = "—"  # what a table shows for a figure the console does not know (never 0)


def format_percent(share: float | None) -> str:
    """0.42 -> '42', None (not known) -> '—'."""
    return UNKNOWN if share is None else f"{100 * share:.0f}"


def format_watts(watts: float | None) -> str:
    return UNKNOWN if watts is None else f"{watts:.0f}"


def format_duration(seconds: float) -> str:
    """3725 -> '1h02m', 95 -> '1m35s', 4.2 -> '4.2s'."""
    if seconds < 60:
        return f"{seconds:.1f}s" if seconds < 10 else f"{seconds:.0f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}h{minutes:02d}m"
    return f"{hours // 24}d{hours % 24:02d}h"
