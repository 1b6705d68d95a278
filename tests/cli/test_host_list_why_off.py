"""`host list` says why a host is off, as the TUI does: its STATE is `off (fenced)`, `off
(operator)`, `off (balancer)` or `off (—)` when the console did not power it off; in JSON
`why_off` says it (`fenced`, `operator`, `balancer`), null when not known or not off."""

from __future__ import annotations

from tests.cli.conftest import Vdctui


def line_of(vdctui: Vdctui, host: str) -> str:
    listed = vdctui("host", "list")
    assert listed.exit_code == 0, listed.output
    (line,) = [row for row in listed.stdout.splitlines() if row.startswith(f"{host} ")]
    return line


def test_host_list_says_why_each_host_is_off(vdctui: Vdctui) -> None:
    up = [h["name"] for h in vdctui.json("host", "list") if h["state"] == "up"]
    fenced, by_operator, still_up = up[:3]
    assert vdctui("ha", "fence", fenced, "--yes").exit_code == 0
    powered = vdctui("host", "power", "off", by_operator, "--force", "--yes")
    assert powered.exit_code == 0, powered.output
    assert line_of(vdctui, fenced).split()[1:3] == ["off", "(fenced)"]
    assert line_of(vdctui, by_operator).split()[1:3] == ["off", "(operator)"]
    assert line_of(vdctui, still_up).split()[1] == "up"
    rows = {h["name"]: h for h in vdctui.json("host", "list")}
    assert (rows[fenced]["state"], rows[fenced]["why_off"]) == ("off", "fenced")
    assert (rows[by_operator]["state"], rows[by_operator]["why_off"]) == ("off", "operator")
    assert rows[still_up]["why_off"] is None
