"""`vdctui vm migrate ... --check`, --force, and the migration options on the command line."""

from __future__ import annotations

from tests.cli.conftest import Vdctui


def a_move(vdctui: Vdctui) -> tuple[str, str]:
    vm = vdctui.json("vm", "list", "--state", "running")[0]
    target = next(
        h["name"]
        for h in vdctui.json("host", "list")
        if h["name"] != vm["host"]
        and vdctui("vm", "migrate", vm["name"], "--to", h["name"], "--check").exit_code == 0
    )
    return vm["name"], target


def test_check_says_each_verdict_and_changes_nothing(vdctui: Vdctui) -> None:
    vm, target = a_move(vdctui)
    shown = vdctui("vm", "migrate", vm, "--to", target, "--check")
    assert shown.exit_code == 0, shown.output
    for check in ("cpu", "storage", "network", "room", "snapshots", "devices"):
        assert check in shown.stdout
    rows = vdctui.json("vm", "migrate", vm, "--to", target, "--check")
    assert {r["name"]: r["verdict"] for r in rows}["snapshots"] == "pass"
    assert vdctui("vm", "snapshot", "create", vm, "s1").exit_code == 0
    failed = vdctui("vm", "migrate", vm, "--to", target, "--check")
    assert failed.exit_code == 1 and "FAIL" in failed.stdout and "1 snapshot" in failed.stdout
    refused = vdctui("vm", "migrate", vm, "--to", target)
    assert refused.exit_code == 1 and "pre-flight check" in refused.stderr
    forced = vdctui("vm", "migrate", vm, "--to", target, "--force")
    assert forced.exit_code == 1 and "cannot migrate domain with 1 snapshots" in forced.stderr
    assert vdctui.json("migration", "list") == [] or all(
        m["outcome"] == "failed" for m in vdctui.json("migration", "list")
    )  # nothing moved


def test_options_reach_the_fleet_or_are_refused_with_why(vdctui: Vdctui) -> None:
    vm, target = a_move(vdctui)
    unsupported = vdctui("vm", "migrate", vm, "--to", target, "--compressed")
    assert unsupported.exit_code == 1 and "compression" in unsupported.stderr
    both = vdctui("vm", "migrate", vm, "--to", target, "--copy-storage", "--copy-storage-inc")
    assert both.exit_code == 2
    bad = vdctui("vm", "migrate", vm, "--to", target, "--bandwidth", "0")
    assert bad.exit_code == 2
    done = vdctui("vm", "migrate", vm, "--to", target, "--postcopy", "--bandwidth", "500")
    assert done.exit_code == 0, done.output
    [moved] = [v for v in vdctui.json("vm", "list") if v["name"] == vm]
    assert moved["host"] == target
