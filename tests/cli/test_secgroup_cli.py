"""`vdctui secgroup ...` from the command line: through the door, counts from the fleet."""

from __future__ import annotations

from tests.cli.conftest import Vdctui
from vdctui.cli.main import main


def test_create_rule_attach_list_and_refusals(vdctui: Vdctui, monkeypatch) -> None:
    vm = next(v["name"] for v in vdctui.json("vm", "list", "--state", "running"))
    assert vdctui("secgroup", "create", "front").exit_code == 0
    added = vdctui("secgroup", "rule", "add", "front", "--ports", "443")
    assert added.exit_code == 0 and "Rule 1 added to front." in added.output
    assert vdctui("secgroup", "attach", "front", vm).exit_code == 0
    assert vdctui("emulate", "--for", "5m").exit_code == 0
    shown = vdctui("secgroup", "list").output
    assert "rule 1: ingress tcp port 443 from 0.0.0.0/0  flows allowed:" in shown
    assert f"VMs: {vm}" in shown
    [group] = vdctui.json("secgroup", "list")
    assert group["group"]["members"] == [vm] and group["flows_by_rule"]["1"] >= 0
    bad = vdctui("secgroup", "rule", "add", "front", "--remote", "300.1.1.1/8")
    assert bad.exit_code == 1 and "IPv4 CIDR" in bad.output
    monkeypatch.setenv("VDCTUI_ROLE", "operator")
    refused = vdctui("secgroup", "create", "other")
    assert refused.exit_code == 1
    monkeypatch.delenv("VDCTUI_ROLE")
    assert "other" not in vdctui("secgroup", "list").output
    assert vdctui("secgroup", "detach", "front", vm).exit_code == 0
    assert vdctui("secgroup", "rule", "remove", "1").exit_code == 0
    audit = vdctui("audit", "list").output
    for action in ("secgroup.create", "secgroup.rule.add", "secgroup.attach", "secgroup.detach"):
        assert action in audit


def test_delete_asks_is_refused_in_use_and_detaches_with_detach(vdctui: Vdctui) -> None:
    vm = next(v["name"] for v in vdctui.json("vm", "list", "--state", "running"))
    assert vdctui("secgroup", "create", "front").exit_code == 0
    assert vdctui("secgroup", "create", "back").exit_code == 0
    assert vdctui("secgroup", "rule", "add", "back", "--remote", "group:front").exit_code == 0
    assert vdctui("secgroup", "attach", "front", vm).exit_code == 0
    refused = vdctui("secgroup", "delete", "front", "--yes")
    assert refused.exit_code == 1
    assert "attached to 1 VM(s)" in refused.output and "add --detach" in refused.output
    said_no = vdctui.runner.invoke(
        main, ["--db", str(vdctui.db), "secgroup", "delete", "front", "--detach"], input="n\n"
    )
    assert said_no.exit_code == 1 and "Delete security group front (" in said_no.output
    assert "front" in vdctui("secgroup", "list").output
    done = vdctui("secgroup", "delete", "front", "--detach", "--yes")
    assert done.exit_code == 0 and "Security group front deleted." in done.output
    listed = vdctui("secgroup", "list").output
    assert "front" not in listed and "back" in listed and "no rules" in listed
    results = [
        r["result"] for r in vdctui.json("audit", "list") if r["action"] == "secgroup.delete"
    ]
    assert sorted(results) == ["ok", "refused"]
