"""Checking what comes in, where it comes in: numbers and names from users and files.

Every number an operator types or a file holds is finite and within a range the
console can use; every name the console creates or is handed to define (VMs,
hosts, sites, rooms, racks, pools, affinity groups) follows one grammar. A value
that does not is refused with one sentence (`BadInput`, a ValueError) that shows
the value escaped. The CLI's click types, the TUI's command line, the inventory
loader and ops itself (the last line) all call these functions.

Names read from real hosts (virsh) are not refused here: a VM the host runs
exists whatever it is called. They are escaped wherever they are shown.
"""

from __future__ import annotations

import math
import re

NAME_GRAMMAR = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")
NAME_RULE = "1 to 63 letters, digits, '.', '_' or '-', starting with a letter or digit"

# The ranges the console works in (each far above any real data center).
MAX_ROWS = 10_000_000  # --limit of a list
MAX_VCPUS = 4096
MAX_MEMORY_MIB = 1024**3  # 1 PiB
MAX_MHZ = 10**9
MAX_SHARES = 1_000_000
MAX_OVERCOMMIT = 100.0
MAX_SPEED = 10_000.0
MIN_SPEED = 0.01
MAX_SEED = 2**63 - 1
MAX_TASK_ID = 2**63 - 1
MAX_INTERVAL_S = 86_400.0
MAX_DURATION_S = 100 * 365 * 86_400.0  # a century of simulated time
MAX_NIC_GBPS = 10_000.0
MAX_CPUS = 100_000
MAX_VMS_AT_ONCE = 1000  # VMs one create makes at most (vdctui.ops.creation)
MAX_PLAIN_INT = 2**31  # a number ops judges itself (and audits), e.g. vCPUs against the VM's max

_MAX_DIGITS = 40  # longer numbers are out of every range above; never parse them


class BadInput(ValueError):
    """A number or name that cannot be used; the message is one sentence."""


def shown(value: object, limit: int = 40) -> str:
    """A value as it may appear in a message: quoted, escaped, and cut if long."""
    text = repr(value) if isinstance(value, str) else repr(str(value))
    return text if len(text) <= limit else f"{text[: limit - 4]}...{text[0]}"


def _range(low: float, high: float, unit: str) -> str:
    suffix = f" {unit}" if unit else ""
    return f"from {_plain(low)} to {_plain(high)}{suffix}"


def _plain(number: float) -> str:
    return str(int(number)) if number == int(number) else f"{number:g}"


def whole_number(value: object, what: str, *, low: int, high: int, unit: str = "") -> int:
    """`value` (an int, or text of one) as an int in [low, high], else BadInput."""
    number: int | None = None
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    elif isinstance(value, float) and math.isfinite(value) and value == int(value):
        number = int(value)
    elif isinstance(value, str):
        text = value.strip()
        digits = text[1:] if text[:1] in ("+", "-") else text
        if digits.isascii() and digits.isdigit():
            if len(digits) > _MAX_DIGITS:  # a whole number, but past every range
                raise BadInput(f"{what} must be {_range(low, high, unit)}, not {shown(value)}.")
            number = int(text)
    if number is None:
        raise BadInput(
            f"{what} must be a whole number {_range(low, high, unit)}, not {shown(value)}."
        )
    if not low <= number <= high:
        raise BadInput(f"{what} must be {_range(low, high, unit)}, not {shown(value)}.")
    return number


def finite_number(value: object, what: str, *, low: float, high: float, unit: str = "") -> float:
    """`value` (a number, or text of one) as a finite float in [low, high], else BadInput.

    nan, inf and numbers too long to be meant are refused, so nothing downstream
    ever compares with NaN or multiplies by infinity.
    """
    number: float | None = None
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int | float):
        number = float(value) if abs(value) < 1e300 else math.inf
    elif isinstance(value, str):
        text = value.strip()
        if len(text) <= _MAX_DIGITS:
            try:
                number = float(text)
            except ValueError:
                number = None
        else:
            number = math.inf if _looks_numeric(text) else None
    if number is None or math.isnan(number):
        raise BadInput(f"{what} must be a number {_range(low, high, unit)}, not {shown(value)}.")
    if not math.isfinite(number) or not low <= number <= high:
        raise BadInput(f"{what} must be {_range(low, high, unit)}, not {shown(value)}.")
    return number


def _looks_numeric(text: str) -> bool:
    return bool(re.fullmatch(r"[+-]?\d[\d_]*(\.\d*)?([eE][+-]?\d+)?", text))


def name(value: object, what: str) -> str:
    """A name the console will create or define: the grammar, else BadInput."""
    if not isinstance(value, str) or not NAME_GRAMMAR.fullmatch(value):
        raise BadInput(f"{shown(value)} is not a valid {what} name: use {NAME_RULE}.")
    return value


def is_name(value: object) -> bool:
    return isinstance(value, str) and NAME_GRAMMAR.fullmatch(value) is not None
