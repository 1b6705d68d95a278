"""vdctui.checks and vdctui.escape: what is refused, and how what is shown is escaped."""

from __future__ import annotations

import json

import pytest

from vdctui import checks
from vdctui.cli.output import plain, print_json
from vdctui.columns import cell
from vdctui.escape import csv_row, for_terminal
from vdctui.units import parse_duration_s, parse_memory_mib


@pytest.mark.parametrize("text", ["nan", "NaN", "inf", "-inf", "Infinity", "1e999", "9" * 400])
def test_a_number_that_is_not_finite_is_refused(text: str) -> None:
    with pytest.raises(checks.BadInput, match=r"^--speed must be .* not '") as caught:
        checks.finite_number(text, "--speed", low=0.01, high=10_000)
    assert "\n" not in str(caught.value) and len(str(caught.value)) < 120


@pytest.mark.parametrize("value", [float("nan"), float("inf"), 10**400])
def test_numbers_not_only_text_are_checked(value: float) -> None:
    with pytest.raises(checks.BadInput):
        checks.finite_number(value, "The ratio", low=1, high=100)


@pytest.mark.parametrize("text", ["99999999999999999999", "9" * 5000, "-1", "0", "1.5", "²", "x"])
def test_a_whole_number_out_of_range_or_not_whole_is_refused(text: str) -> None:
    with pytest.raises(checks.BadInput, match=r"^--limit must be"):
        checks.whole_number(text, "--limit", low=1, high=checks.MAX_ROWS)


def test_good_numbers_pass() -> None:
    assert checks.whole_number(" 42 ", "--limit", low=1, high=100) == 42
    assert checks.finite_number("2.5", "x", low=1, high=4) == 2.5


@pytest.mark.parametrize(
    "text", ["", "a" * 10_000, "a" * 64, "x\ny", "\x1b[31mred", "../../etc", "a/b", "-web", "a b"]
)
def test_names_outside_the_grammar_are_refused(text: str) -> None:
    with pytest.raises(checks.BadInput, match="is not a valid affinity group name") as caught:
        checks.name(text, "affinity group")
    message = str(caught.value)
    assert "\n" not in message and "\x1b" not in message and len(message) < 160


@pytest.mark.parametrize("text", ["web-01", "rk1-h01", "kvm-01.example.net", "a", "A_b.c-9"])
def test_names_in_the_grammar_pass(text: str) -> None:
    assert checks.name(text, "VM") == text


def test_sizes_and_durations_too_big_are_one_sentence() -> None:
    with pytest.raises(ValueError, match="more memory than any host"):
        parse_memory_mib("9" * 400)
    with pytest.raises(ValueError, match="longer than a century"):
        parse_duration_s("9" * 400 + "d")


def test_terminal_escaping_makes_sequences_visible() -> None:
    hostile = "x\n999 forged\r\x1b]0;title\x07\x1b[2J\x9b31m\u202egnp.exe\x00"
    shown = for_terminal(hostile)
    assert shown == ("x\\n999 forged\\r\\x1b]0;title\\x07\\x1b[2J\\x9b31m\\u202egnp.exe\\x00")
    assert all(c.isprintable() for c in shown)
    assert for_terminal("web-01 ünïcode ✓") == "web-01 ünïcode ✓"


def test_table_cells_are_escaped_and_unknown_is_a_dash() -> None:
    assert cell("a\nb") == "a\\nb"
    assert cell(None) == cell(float("nan")) == cell(float("inf")) == "-"


def test_csv_cells_cannot_be_formulas() -> None:
    row = csv_row(["=HYPERLINK(1)", "+1", "-2", "@SUM(A1)", "\tx", "ok", 3, None, "a\nb"])
    assert row == ["'=HYPERLINK(1)", "'+1", "'-2", "'@SUM(A1)", "'\\tx", "ok", 3, None, "a\\nb"]


def test_json_never_holds_nan_or_infinity(capsys: pytest.CaptureFixture[str]) -> None:
    assert plain({"a": float("nan"), "b": [float("-inf"), 1.5]}) == {"a": None, "b": [None, 1.5]}
    print_json([{"ratio": float("inf"), "name": "x\x1b[31m"}])
    out = capsys.readouterr().out
    assert json.loads(out) == [{"ratio": None, "name": "x\x1b[31m"}]
    assert "Infinity" not in out and "\x1b" not in out
