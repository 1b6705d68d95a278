"""`vdctui host power on|off|cycle NAME`: asks first, goes through the door, is audited."""

from __future__ import annotations

from tests.cli.conftest import Vdctui
from tests.cli.test_viewer_refusals import up_host
from vdctui.cli.main import main


def states(vdctui: Vdctui) -> dict[str, str]:
    return {h["name"]: h["state"] for h in vdctui.json("host", "list")}


def test_power_off_then_on_an_emulated_host(vdctui: Vdctui) -> None:
    host = up_host(vdctui)
    result = vdctui("host", "power", "off", host, "--force", "--yes")
    assert result.exit_code == 0, result.output
    assert "ForceOff" in result.output
    assert states(vdctui)[host] == "off"
    record = vdctui.json("audit", "list")[0]
    assert (record["action"], record["result"], record["params"]) == (
        "host.power-off",
        "ok",
        {"force": True},
    )
    assert vdctui("host", "power", "on", host, "--yes").exit_code == 0
    assert states(vdctui)[host] == "up"


def test_it_asks_first_and_no_means_nothing_happens(vdctui: Vdctui) -> None:
    host = up_host(vdctui)
    result = vdctui.runner.invoke(
        main, ["--db", str(vdctui.db), "host", "power", "off", host], input="n\n"
    )
    assert result.exit_code != 0
    assert states(vdctui)[host] == "up"


def test_a_cycle_of_an_emulated_host_stops_its_vms_and_boots_it(vdctui: Vdctui) -> None:
    host = up_host(vdctui)
    ran = [v["name"] for v in vdctui.json("vm", "list") if v["host"] == host]
    result = vdctui("host", "power", "cycle", host, "--yes")
    assert result.exit_code == 0, result.output
    assert states(vdctui)[host] == "up"
    after = {v["name"]: v["state"] for v in vdctui.json("vm", "list") if v["host"] == host}
    assert ran and all(after[name] == "shut off" for name in ran), after
    record = vdctui.json("audit", "list")[0]
    assert (record["action"], record["result"]) == ("host.power-cycle", "ok")


def test_force_goes_with_off_only(vdctui: Vdctui) -> None:
    result = vdctui("host", "power", "on", up_host(vdctui), "--force", "--yes")
    assert result.exit_code == 2 and "--force goes with 'off' only" in result.output
