"""`vdctui vm snapshot create|list|revert|delete|space` on the embedded fleet."""

from __future__ import annotations

from tests.cli.conftest import Vdctui


def test_create_list_revert_delete(vdctui: Vdctui) -> None:
    first = vdctui.json("vm", "list", "--state", "running")[0]
    vm, host = first["name"], first["host"]
    made = vdctui("vm", "snapshot", "create", vm, "base", "--description", "known good")
    assert made.exit_code == 0, made.output
    assert f"{vm}: snapshot base taken (running, with memory)" in made.stdout
    assert vdctui("vm", "snapshot", "create", vm, "next", "--disk-only").exit_code == 0
    listed = vdctui.json("vm", "snapshot", "list", vm)
    assert [(s["name"], s["depth"], s["current"]) for s in listed] == [
        ("base", 0, False),
        ("next", 1, True),
    ]
    assert listed[0]["description"] == "known good" and listed[0]["size_bytes"] > 0
    table = vdctui("vm", "snapshot", "list", vm).stdout
    assert "  next *" in table and "OLD" not in table
    assert "OLD" in vdctui("vm", "snapshot", "list", "--older-than", "0s").stdout
    asked = vdctui("vm", "snapshot", "revert", vm, "base")  # not a terminal: must say --yes
    assert asked.exit_code == 1 and "--yes" in asked.stderr
    assert vdctui("vm", "destroy", vm, "--yes").exit_code == 0
    back = vdctui("vm", "snapshot", "revert", vm, "base", "--yes")
    assert back.exit_code == 0 and f"{vm}: reverted to base; it is running" in back.stdout
    [space] = vdctui.json("vm", "snapshot", "space")
    assert space["snapshots"] == 2 and space["size_bytes"] > 0 and space["old"] == 0
    gone = vdctui("vm", "snapshot", "delete", vm, "base", "--yes")
    assert gone.exit_code == 0, gone.output
    assert [s["name"] for s in vdctui.json("vm", "snapshot", "list", vm)] == ["next"]
    other = next(h["name"] for h in vdctui.json("host", "list") if h["name"] != host)
    refused = vdctui("vm", "migrate", vm, "--to", other)
    assert refused.exit_code == 1 and "snapshot" in refused.stderr


def test_refusals_are_one_sentence(vdctui: Vdctui) -> None:
    vm = vdctui.json("vm", "list", "--state", "running")[0]["name"]
    for args, words in (
        (("create", vm, "bad name"), "not a valid snapshot name"),
        (("revert", vm, "ghost", "--yes"), "no snapshot named 'ghost'"),
        (("delete", "no-vm", "s", "--yes"), "no VM named 'no-vm'"),
    ):
        done = vdctui("vm", "snapshot", *args)
        assert done.exit_code == 1 and words in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1
    viewer = vdctui("vm", "snapshot", "delete", vm, "s", read_only=True)
    assert viewer.exit_code == 1 and "viewer" in viewer.stderr.lower()
