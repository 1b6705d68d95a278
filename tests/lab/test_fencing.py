"""Fencing a real lab host through its Redfish BMC (sushy-tools, whose power changes really
cut the host: tests/lab/bmc.py), then HA restarting its VMs on the other hosts."""

from __future__ import annotations

import json
import time
from pathlib import Path

from tests.lab.conftest import Guests, run_cli
from tests.lab.hosts import DAEMONS, alive
from tests.lab.lab import Lab


def _audit(inventory: Path, db: Path, action: str) -> list[dict[str, object]]:
    done = run_cli(inventory, db, "--json", "audit", "list", "--action", action)
    assert done.returncode == 0, done.stderr
    rows: list[dict[str, object]] = json.loads(done.stdout)
    return rows


def _power_back(lab: Lab, inventory: Path, db: Path) -> None:
    """Power labh3 on through its BMC and wait until it answers again."""
    run_cli(inventory, db, "host", "power", "on", "labh3", "--yes")
    host = lab.host(3)
    deadline = time.monotonic() + 60  # the BMC applies it 1-11 s later
    while not all(alive(host.pid(d)) for d in DAEMONS) and time.monotonic() < deadline:
        time.sleep(0.2)
    lab.revive_host(3)  # returns once libvirtd and sshd answer (starts them if the BMC did not)


def test_fence_a_failed_host_and_restart_its_vms_elsewhere(
    lab: Lab, lab_bmc_inventory: Path, guests: Guests, tmp_path: Path
) -> None:
    inventory, db = lab_bmc_inventory, tmp_path / "c.db"
    victims = [guests.define(f"ha-{i}", 3) for i in range(2)]
    bystander = guests.define("ha-stays", 1)
    assert run_cli(inventory, db, "vm", "list").returncode == 0  # seen once, all up
    qemus = lab.host(3).processes_named("qemu-system-x86")
    assert len(qemus) == 2
    lab.kill_host(3)  # its management dies: unreachable, and its guests still run
    try:
        watched = run_cli(
            inventory, db, "ha", "watch", "--missed", "2", "--rounds", "2", "--interval", "0.1"
        )
        assert "labh3: unreachable, failed but not fenced" in watched.stdout, watched.stdout
        assert "restarted" not in watched.stdout  # never without a fence
        assert all(alive(p) for p in qemus)

        # HA fences it through its BMC (ForceOff, confirmed Off), then restarts its VMs
        restarted = run_cli(
            inventory, db, "ha", "watch", "--fence", "--missed", "1", "--rounds", "1"
        )
        assert restarted.returncode == 0, restarted.stdout + restarted.stderr
        assert "labh3: off, failed and fenced by HA" in restarted.stdout, restarted.stdout
        assert "reports the power Off" in restarted.stdout
        # really off: every process of the host is gone (its supervisor is the hardware)
        host = lab.host(3)
        assert not any(alive(p) for p in [*qemus, *(host.pid(d) for d in DAEMONS)])
        assert host.processes_named("sshd") == [] and host.processes_named("qemu-system-x86") == []
        rows = json.loads(run_cli(inventory, db, "--json", "host", "list").stdout)
        labh3 = next(h for h in rows if h["name"] == "labh3")
        assert (labh3["state"], labh3["power_state"]) == ("off", "Off")
        listed = {n: lab.virsh(n, "list", "--name").stdout.split() for n in (1, 2)}
        for name in [*victims, bystander]:  # each VM running exactly once, on a survivor
            assert sum(name in running for running in listed.values()) == 1, (name, listed)
        [fence] = _audit(inventory, db, "host.power-off")
        assert fence["target"] == "labh3" and fence["result"] == "ok"
        assert fence["params"] == {"reason": "ha-fence"}
        restarts = _audit(inventory, db, "ha.restart")
        assert sorted(r["target"] for r in restarts if r["result"] == "ok") == victims
    finally:
        _power_back(lab, inventory, db)
