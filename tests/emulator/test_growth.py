"""Growth in the emulator: hosts join racks within units and power budget, empty ones leave."""

from __future__ import annotations

import pytest

from emulator import InvalidOperation, build_demo, open_fleet
from emulator.growth import add_host, rack_room, remove_host


def test_a_new_host_is_up_and_empty_and_named_after_its_rack() -> None:
    fleet = build_demo(seed=1, hosts=8, vms=40)
    host = add_host(fleet, "rk1", "r650-2x16c-512g")
    assert host.name == "rk1-h09"
    assert host.state == "up" and not host.vm_names
    assert f"local-{host.name}" in fleet.host_datastores(host.name)
    assert any(e.kind == "host.added" for e in fleet.events_since(0))


def test_a_full_rack_is_refused_with_its_units() -> None:
    fleet = build_demo(seed=1, hosts=8, vms=40)
    fleet.racks["rk1"].units = 10  # its 8 hosts take 9 U (7 x 1 U, 1 x 2 U)
    units, _ = rack_room(fleet, "rk1")
    for _ in range(units):
        add_host(fleet, "rk1", "r650-2x16c-256g")
    with pytest.raises(InvalidOperation, match="rack rk1 is full: .* needs 1 U and 0 of 10 U"):
        add_host(fleet, "rk1", "r650-2x16c-256g")


def test_the_power_budget_is_checked_with_the_peak_draw() -> None:
    fleet = build_demo(seed=1, hosts=8, vms=40)
    _, watts = rack_room(fleet, "rk1")
    fleet.racks["rk1"].power_budget_kw -= (watts - 500) / 1000  # 500 W left
    hosts_before = set(fleet.hosts)
    with pytest.raises(InvalidOperation, match=r"power budget .* leaves 500 W.* up to 598 W"):
        add_host(fleet, "rk1", "r7525-2x32c-1t")
    assert set(fleet.hosts) == hosts_before  # a refusal changes nothing
    add_host(fleet, "rk1", "r650-2x16c-256g")  # 427 W fits


def test_an_unknown_model_or_rack_is_refused() -> None:
    fleet = build_demo(seed=1, hosts=8, vms=40)
    with pytest.raises(InvalidOperation, match="no host model 'huge'"):
        add_host(fleet, "rk1", "huge")
    with pytest.raises(InvalidOperation, match="no rack named 'rk9'"):
        add_host(fleet, "rk9")


def test_only_an_empty_host_leaves_and_its_vms_are_named() -> None:
    fleet = build_demo(seed=1, hosts=8, vms=40)
    busy = "rk1-h01"
    with pytest.raises(InvalidOperation, match=f"Host {busy} still holds .* VM"):
        remove_host(fleet, busy)
    new = add_host(fleet, "rk1").name
    power = fleet.power_watts
    remove_host(fleet, new)
    assert new not in fleet.hosts and f"local-{new}" not in fleet.datastores
    assert fleet.power_watts < power


def test_added_and_removed_hosts_survive_a_save(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "fleet.db"
    fleet = open_fleet(path, lambda: build_demo(seed=1, hosts=8, vms=40))
    kept = add_host(fleet, "rk1").name
    gone = add_host(fleet, "rk1").name
    remove_host(fleet, gone)
    fleet.save()
    again = open_fleet(path)
    assert kept in again.hosts and gone not in again.hosts
    assert again.racks["rk1"].units == 42


def test_a_file_written_before_rack_units_reads_back_with_42(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import json
    import sqlite3

    path = tmp_path / "fleet.db"
    open_fleet(path, lambda: build_demo(seed=1, hosts=8, vms=40)).save(full=True)
    conn = sqlite3.connect(path)
    (data,) = conn.execute("SELECT data FROM object WHERE kind='rack'").fetchone()
    conn.execute("UPDATE object SET data=? WHERE kind='rack'", (json.dumps(json.loads(data)[:-1]),))
    conn.commit()
    conn.close()
    assert open_fleet(path).racks["rk1"].units == 42
