"""Input that must be refused: absurd numbers and names are one sentence, never a traceback,
and nothing from outside reaches the terminal or a CSV file unescaped (issue 9)."""

from __future__ import annotations

import csv
import io
import json

import pytest

from tests.cli.conftest import Vdctui

NAN_AND_FRIENDS = ["nan", "inf", "-inf", "1e999", "9" * 400]


def refused_in_one_sentence(result, *needles: str) -> None:  # type: ignore[no-untyped-def]
    assert result.exit_code in (1, 2), result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith(("Error", "vdctui:"))]
    assert len(errors) == 1, result.stderr
    for needle in needles:
        assert needle in errors[0], errors[0]


@pytest.mark.parametrize("value", NAN_AND_FRIENDS)
def test_pool_overcommit_must_be_finite(vdctui: Vdctui, value: str) -> None:
    for option in ("--cpu-overcommit", "--memory-overcommit"):
        refused_in_one_sentence(vdctui("pool", "set", "web", option, value), option)
    listed = vdctui("--json", "pool", "list")
    assert listed.exit_code == 0, listed.output
    assert "Infinity" not in listed.stdout and "NaN" not in listed.stdout
    assert vdctui("pool", "list").exit_code == 0
    assert vdctui("host", "maintenance", "rk1-h01", "--plan").exit_code == 0


@pytest.mark.parametrize(
    "args",
    [
        ["emulate", "--speed", "nan"],
        ["emulate", "--speed", "inf"],
        ["console", "--speed", "nan"],
        ["ha", "watch", "--interval", "nan"],
        ["ha", "watch", "--interval", "inf"],
        ["ha", "watch", "--rounds", "99999999999999999999"],
        ["audit", "list", "--limit", "99999999999999999999"],
        ["task", "list", "--limit", "99999999999999999999"],
        ["migration", "list", "--limit", "9" * 400],
        ["pool", "set", "web", "--cpu-limit", "99999999999999999999"],
        ["pool", "set", "web", "--cpu-shares", "99999999999999999999"],
        ["pool", "set", "web", "--memory-limit", "9" * 400],
        ["vm", "resize", "batch-001", "--memory", "9" * 400],
        ["vm", "resize", "batch-001", "--vcpus", "9" * 400],
        ["vm", "create", "new", "--flavor", "small", "--pool", "web", "--count", "9" * 30],
        ["emulate", "--seed", "9" * 400],
        ["emulate", "--for", "9" * 400 + "d"],
    ],
)
def test_absurd_numbers_are_one_sentence(vdctui: Vdctui, args: list[str]) -> None:
    refused_in_one_sentence(vdctui(*args))


@pytest.mark.parametrize("group", ["", "a" * 10_000, "x\ny", "\x1b]0;owned\x07", "../../etc"])
def test_affinity_group_names_follow_the_grammar(vdctui: Vdctui, group: str) -> None:
    vms = [v["name"] for v in vdctui.json("vm", "list")][:2]
    result = vdctui("vm", "affinity", group, *vms, "--kind", "different-hosts")
    refused_in_one_sentence(result, "not a valid affinity group name")
    assert "\x1b" not in result.stderr


@pytest.mark.parametrize("name", ["", "x\ny", "bad name", "a" * 100])
def test_new_pools_and_vms_follow_the_grammar(vdctui: Vdctui, name: str) -> None:
    refused_in_one_sentence(vdctui("pool", "create", name), "not a valid pool name")
    created = vdctui("vm", "create", name, "--flavor", "small", "--pool", "web")
    refused_in_one_sentence(created, "not a valid VM name")


def test_a_refused_name_cannot_forge_an_audit_row(vdctui: Vdctui) -> None:
    forged = "x\n999  2026-01-01 00:00:00  root   admin  vm.destroy  web-001  ok"
    result = vdctui("vm", "start", forged)
    refused_in_one_sentence(result)
    listed = vdctui("audit", "list", "--limit", "5")
    assert listed.exit_code == 0
    lines = listed.stdout.splitlines()
    assert not any(line.startswith("999") for line in lines), listed.stdout
    assert len(lines) == 1 + len(vdctui.json("audit", "list", "--limit", "5"))
    hostile = "\x1b]8;;http://evil/\x07click\x1b]8;;\x07\x1b[2J"
    vdctui("vm", "start", hostile)
    shown = vdctui("audit", "list", "--limit", "1")
    assert "\x1b" not in shown.stdout and "\\x1b]8;;http://evil/\\x07" in shown.stdout


def test_audit_csv_holds_no_formula_and_no_control_character(vdctui: Vdctui) -> None:
    vdctui("vm", "start", '=HYPERLINK("http://evil","x")')
    vdctui("vm", "start", "ok\r\nforged,row")
    out = vdctui("audit", "export", "--format", "csv")
    assert out.exit_code == 0, out.output
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    targets = [r["target"] for r in rows]
    assert '\'=HYPERLINK("http://evil","x")' in targets
    assert "ok\\r\\nforged,row" in targets
    assert not any(
        value.startswith(("=", "+", "@")) for row in rows for value in row.values() if value
    )
    exact = json.loads(vdctui("audit", "export", "--format", "json").stdout)
    assert "ok\r\nforged,row" in [r["target"] for r in exact]  # JSON keeps the record exact
