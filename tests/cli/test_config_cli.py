"""`vdctui vm xml|config|autostart`."""

from __future__ import annotations

from tests.cli.conftest import Vdctui


def test_xml_config_and_autostart(vdctui: Vdctui) -> None:
    vm = vdctui.json("vm", "list")[0]["name"]
    xml = vdctui("vm", "xml", vm)
    assert xml.exit_code == 0 and f"<name>{vm}</name>" in xml.stdout
    parts = {row["part"]: row["text"] for row in vdctui.json("vm", "config", vm)}
    assert {"cpu", "memory", "disk", "autostart"} <= set(parts) and parts["autostart"] == "off"
    on = vdctui("vm", "autostart", vm, "on")
    assert on.exit_code == 0 and f"{vm}: autostart on" in on.stdout
    assert {r["part"]: r["text"] for r in vdctui.json("vm", "config", vm)}["autostart"] == "on"
    assert vdctui.json("audit", "list")[0]["action"] == "vm.autostart"
    refused = vdctui("vm", "autostart", vm, "off", read_only=True)
    assert refused.exit_code == 1
    assert vdctui("vm", "xml", "ghost").exit_code == 1


def test_duplicates_on_the_embedded_fleet(vdctui: Vdctui) -> None:
    assert "No VM is defined on two hosts." in vdctui("vm", "duplicates").stdout
    vm = vdctui.json("vm", "list")[0]
    refused = vdctui("vm", "remove-copy", vm["name"], "--host", vm["host"], "--yes")
    assert refused.exit_code == 1 and "not defined on two hosts" in refused.stderr
