"""`vdctui alert inject|list|quarantine` on the emulated fleet."""

from __future__ import annotations

from tests.cli.conftest import Vdctui


def test_an_injected_scan_is_listed_audited_and_answered_by_quarantine(vdctui: Vdctui) -> None:
    vm = next(v["name"] for v in vdctui.json("vm", "list", "--state", "running"))
    assert vdctui("alert", "list").output.strip() == "No alerts."
    injected = vdctui("alert", "inject", "port-scan", vm, "--source", "203.0.113.9")
    assert injected.exit_code == 0, injected.output
    assert vdctui("emulate", "--for", "2m").exit_code == 0
    [alert] = vdctui.json("alert", "list")
    assert (alert["kind"], alert["vm"], alert["source"]) == ("port-scan", vm, "203.0.113.9")
    assert "alert.raised" in vdctui("audit", "list").output
    unasked = vdctui("alert", "quarantine", str(alert["id"]))
    assert unasked.exit_code == 1 and "needs confirmation" in unasked.output
    done = vdctui("alert", "quarantine", str(alert["id"]), "--yes")
    assert done.exit_code == 0 and f"{vm} is in quarantine" in done.output
    assert vdctui.json("alert", "list")[0]["state"] == "quarantined"
    shown = vdctui("secgroup", "list").output
    assert "quarantine" in shown and f"VMs: {vm}" in shown


def test_an_attack_on_an_unknown_vm_is_refused_in_one_sentence_and_audited(
    vdctui: Vdctui,
) -> None:
    """Was a traceback: the emulator's own error escaped the driver untranslated."""
    refused = vdctui("alert", "inject", "port-scan", "nosuch-vm")
    assert refused.exit_code == 1
    assert refused.output.strip().endswith("There is no VM named 'nosuch-vm'."), refused.output
    assert "Traceback" not in refused.output
    [record] = [r for r in vdctui.json("audit", "list") if r["action"] == "fault.attack"]
    assert (record["target"], record["result"]) == ("nosuch-vm", "refused")
