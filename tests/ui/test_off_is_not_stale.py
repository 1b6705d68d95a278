"""An off host is not stale: the driver (or its BMC) says now that it is off. Its line in
the tree says it is off and why (`off (fenced)`), never `STALE, last seen 0.0s ago`; the
same in the CLI's host list (its SEEN empty, `stale: false` in JSON). A host that did not
answer is still STALE with its age, and so are the VMs of a host that is off (their state
is as last seen: the host did not list them)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.conftest import Vdctui
from tests.ui.conftest import Opened, command, settle
from tests.ui.test_details import open_host


async def test_an_off_hosts_tree_line_says_off_and_why_not_stale(
    opened: Opened,
) -> None:
    app, pilot, fleet = opened
    fenced, silent = sorted(fleet.hosts)[:2]
    await command(pilot, f"fence {fenced}")
    await pilot.press("y")
    await settle(pilot)
    fleet.partition_host(silent)
    await app.ops.sync()
    app.refresh_screen()
    await settle(pilot)
    screen = await open_host(pilot, fenced)
    line = screen._badges(app.ops.host(fenced)).plain
    assert line == f"{fenced} off (fenced)"
    assert "STALE" not in line and "last seen" not in line
    assert "STALE, last seen" in screen._badges(app.ops.host(silent)).plain
    assert not app.ops.host_sightings()[fenced].stale
    assert app.ops.host_sightings()[silent].stale
    vm = next(v for v in app.ops.vms() if v.host == fenced)
    assert app.ops.vm_seen(vm.name).stale  # not listed by its host: as last seen
    # the host pane's VMs: not "running" at some CPU %, but unknown, as last seen
    table = screen.side_table
    screen.select_host(fenced)
    await settle(pilot)
    cells = [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]
    rows = {row[0]: row for row in cells}
    assert rows, "the pane lists the host's VMs"
    for name, row in rows.items():
        assert row[1].startswith("unknown: running (STALE, last seen "), (name, row)
        assert row[5] == "—", (name, row)


def test_the_cli_host_list_does_not_call_an_off_host_stale(tmp_path: Path) -> None:
    vdctui = Vdctui(tmp_path / "v.db")
    built = vdctui("emulate", "--hosts", "8", "--vms", "40", "--seed", "3", "--for", "1m")
    assert built.exit_code == 0, built.output
    host = "rk1-h01"
    assert vdctui("ha", "fence", host, "--yes").exit_code == 0
    listed = vdctui("host", "list")
    assert listed.exit_code == 0, listed.output
    (line,) = [row for row in listed.stdout.splitlines() if row.startswith(f"{host} ")]
    assert "STALE" not in line and "last seen" not in line, line
    (row,) = [h for h in json.loads(vdctui("--json", "host", "list").stdout) if h["name"] == host]
    assert row["state"] == "off" and row["stale"] is False
