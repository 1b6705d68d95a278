from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vdctui.units import format_duration, format_gib, format_mib, parse_duration_s, parse_memory_mib


@pytest.mark.parametrize(
    ("text", "mib"),
    [
        ("512", 512),
        ("512MiB", 512),
        ("512m", 512),
        ("8GiB", 8192),
        ("8G", 8192),
        ("1.5GiB", 1536),
        ("2TiB", 2 * 1024 * 1024),
        (" 4 GiB ", 4096),
    ],
)
def test_memory_sizes(text: str, mib: int) -> None:
    assert parse_memory_mib(text) == mib


@pytest.mark.parametrize("text", ["", "-1GiB", "8 apples", "0", "1.3MiB", "GiB", "1e9"])
def test_bad_memory_sizes_say_so(text: str) -> None:
    with pytest.raises(ValueError, match="not a"):
        parse_memory_mib(text)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90", 90),
        ("90s", 90),
        ("15m", 900),
        ("2h", 7200),
        ("1h30m", 5400),
        ("1d", 86400),
        ("250ms", 0.25),
    ],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration_s(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "soon", "5 weeks", "-3m", "1h and 2m"])
def test_bad_durations_say_so(text: str) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration_s(text)


@given(st.integers(min_value=1, max_value=10**7))
def test_memory_round_trips_in_mib(mib: int) -> None:
    assert parse_memory_mib(f"{mib}MiB") == mib


def test_formats_read_well() -> None:
    assert format_mib(4096) == "4 GiB"
    assert format_mib(512) == "512 MiB"
    assert format_mib(1010 * 1024) == "1,010 GiB"  # was 1.01e+03 GiB
    assert format_mib(1536) == "1.5 GiB" and format_mib(31.5 * 1024) == "31.5 GiB"
    assert format_mib(999.9 * 1024) == "1,000 GiB"
    assert format_mib(1.5 * 1024 * 1024) == "1.5 TiB"
    assert format_gib(2048) == "2 TiB"
    assert format_duration(95) == "1m35s"
    assert format_duration(3725) == "1h02m"
