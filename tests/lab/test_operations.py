"""Cold moves, resizing, maintenance and a dying host, on real hosts, checked with plain virsh."""

from __future__ import annotations

import json
from pathlib import Path

from tests.lab.conftest import Guests, run_cli
from tests.lab.lab import Lab


def test_cold_migration_of_a_stopped_vm(
    lab: Lab, lab_inventory: Path, guests: Guests, tmp_path: Path
) -> None:
    name = guests.define("cold-one", 1, start=False)
    done = run_cli(
        lab_inventory, tmp_path / "c.db", "vm", "migrate", name, "--to", "labh3", "--cold"
    )
    assert done.returncode == 0, done.stderr
    assert guests.where(name) == [(3, "shut off")]  # defined on the target, gone from the source
    lab.virsh(3, "start", name)  # and the target's definition is a whole one
    assert guests.where(name) == [(3, "running")]


def test_live_resize_within_the_maxima_and_refusals_beyond(
    lab: Lab, lab_inventory: Path, guests: Guests, tmp_path: Path
) -> None:
    name = guests.define("resize-one", 2, memory_mib=96, max_memory_mib=128)
    db = tmp_path / "c.db"
    done = run_cli(lab_inventory, db, "vm", "resize", name, "--vcpus", "2")
    assert done.returncode == 0, done.stderr
    counts = lab.virsh(2, "vcpucount", name).stdout
    assert "current      live           2" in counts
    done = run_cli(lab_inventory, db, "vm", "resize", name, "--memory", "112MiB")
    assert done.returncode == 0, done.stderr
    for args, word in ((["--vcpus", "5"], "4"), (["--memory", "256MiB"], "128 MiB")):
        refused = run_cli(lab_inventory, db, "vm", "resize", name, *args)
        assert refused.returncode == 1 and "Traceback" not in refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1 and word in refused.stderr
    assert "current      live           2" in lab.virsh(2, "vcpucount", name).stdout


def test_maintenance_evacuates_a_lab_host(
    lab: Lab, lab_inventory: Path, guests: Guests, tmp_path: Path
) -> None:
    names = [guests.define(f"evac-{i}", 1) for i in range(2)]
    names.append(guests.define("evac-off", 1, start=False))
    db = tmp_path / "c.db"
    plan = run_cli(lab_inventory, db, "--json", "host", "maintenance", "labh1", "--plan")
    assert plan.returncode == 0, plan.stderr
    [shown] = json.loads(plan.stdout)
    assert shown["stuck"] == []
    planned = {row["vm"]: row["target"] for row in shown["moves"]}
    assert set(names) <= set(planned) and all(t in ("labh2", "labh3") for t in planned.values())
    assert [h for n in names for h, _ in guests.where(n)] == [1, 1, 1]  # a plan changes nothing
    done = run_cli(lab_inventory, db, "host", "maintenance", "labh1", "--yes", timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    listed = {n: lab.virsh(n, "list", "--all", "--name").stdout.split() for n in (1, 2, 3)}
    for name in names:  # each VM on exactly one other host, by virsh run on every host
        holders = [n for n, held in listed.items() if name in held]
        assert len(holders) == 1 and holders[0] != 1, (name, listed)
    exit_done = run_cli(lab_inventory, db, "host", "maintenance", "labh1", "--exit")
    assert exit_done.returncode == 0, exit_done.stderr


def test_a_host_that_dies(lab: Lab, lab_inventory: Path, guests: Guests, tmp_path: Path) -> None:
    name = guests.define("dies-with-3", 3)
    other = guests.define("lives-on-2", 2)
    db = tmp_path / "c.db"
    assert run_cli(lab_inventory, db, "vm", "list").returncode == 0  # seen once, all up
    lab.kill_host(3)
    try:
        hosts = json.loads(run_cli(lab_inventory, db, "--json", "host", "list").stdout)
        dead = next(h for h in hosts if h["name"] == "labh3")
        assert dead["state"] == "unreachable" and "labh3" in dead["reason"]
        assert dead["power_watts"] is None
        assert dead["cpus"] > 0 and dead["memory_mib"] > 0  # its facts as last seen, not 0
        listed = run_cli(lab_inventory, db, "--json", "vm", "list")
        assert listed.returncode != 0  # a partial refresh says so
        vms = {vm["name"]: vm for vm in json.loads(listed.stdout)}
        # unknown (null), never "running" from a host that is silent; stale, with its age
        assert vms[name]["state"] is None and vms[name]["stale"] is True
        assert vms[other]["state"] == "running"
        assert all(h["state"] == "up" for h in hosts if h["name"] != "labh3")
        start = run_cli(lab_inventory, db, "vm", "stop", name, "--yes")
        assert start.returncode == 1 and "Traceback" not in start.stderr
        assert len(start.stderr.strip().splitlines()) == 1, start.stderr
        # the rest of the fleet keeps working
        assert run_cli(lab_inventory, db, "vm", "stop", other, "--yes").returncode == 0
    finally:
        lab.revive_host(3)
    assert guests.where(name) == [(3, "running")]  # its guest ran on all along
