from __future__ import annotations

import asyncio
import sqlite3

import pytest

from emulator import FleetFile, build_demo, open_fleet, run_fast, run_realtime

from .conftest import CURVE, add_vm, small_fleet


def drive(f) -> None:
    """The same sequence of operator calls and faults."""
    names = sorted(f.vms)[:40]
    f.step(30)
    for i, name in enumerate(names):
        v = f.vms[name]
        if v.state == "running" and i % 3 == 0:
            f.shutdown_vm(name)
    f.step(45)
    hosts = sorted(f.hosts)
    web = [n for n in sorted(f.vms) if n.startswith("web") and f.vms[n].state == "running"][:5]
    for n in web:
        target = next(h for h in hosts if h != f.vms[n].host and f.memory_free_mib(h) > 65536)
        f.migrate(n, target)
    f.crash_host(hosts[3])
    f.slow_link(hosts[10], 0.3)
    f.step(600)


def test_same_seed_same_outcome():
    a, b = build_demo(seed=7), build_demo(seed=7)
    drive(a)
    drive(b)
    assert a.snapshot() == b.snapshot()
    assert a.events_since(0) == b.events_since(0)
    c = build_demo(seed=8)
    drive(c)
    assert c.snapshot() != a.snapshot()


def test_demo_topology():
    f = build_demo(seed=0, hosts=64, vms=600)
    assert len(f.sites) == 1 and len(f.rooms) == 2 and len(f.racks) == 8
    assert len(f.hosts) == 64 and len(f.vms) == 600
    assert len({h.model for h in f.hosts.values()}) == 3
    assert len(f.networks) >= 2
    assert sum(ds.kind == "shared" for ds in f.datastores.values()) == 4
    assert sum(ds.kind == "local" for ds in f.datastores.values()) == 64
    pools = {v.pool for v in f.vms.values()}
    assert pools == {"web", "db", "batch", "dev", "infra"}
    assert "web-001" in f.vms and "db-003" in f.vms
    states = [v.state for v in f.vms.values()]
    assert states.count("running") > 450 and states.count("shut off") > 10
    for h in f.hosts.values():
        total = sum(v.memory_mib for v in f.vms_on(h.name))
        assert total <= h.usable_memory_mib
        for v in f.vms_on(h.name):
            assert v.datastore in f.host_datastores(h.name)
    assert {v.workload.split(":")[0] for v in f.vms.values()} == {"constant", "walk", "trace"}
    assert build_demo(seed=0).snapshot() == f.snapshot()
    assert len({v.uuid for v in f.vms.values()}) == 600


def test_bigger_demo_uses_denser_racks_and_more_rooms():
    f = build_demo(seed=1, hosts=1000, vms=2000)
    assert len(f.racks) == 25 and len(f.rooms) == 1
    f = build_demo(seed=1, hosts=2000, vms=100)
    assert len(f.racks) == 50 and len(f.rooms) == 2


def test_idle_host_power_and_energy():
    f = small_fleet()
    assert f.host_stats("ra1").power_watts == CURVE[0]
    f.step(86400)
    assert f.now == 86400
    kwh = f.host_stats("ra1").energy_j / 3.6e6
    assert kwh == pytest.approx(CURVE[0] * 24 / 1000)
    assert f.summary()["energy_kwh"] == pytest.approx(4 * CURVE[0] * 24 / 1000)
    f.power_off_host("ra1")
    f.step(3600)
    assert f.host_stats("ra1").energy_j / 3.6e6 == pytest.approx(CURVE[0] * 24 / 1000)


def test_energy_follows_the_curve_between_steps():
    f = small_fleet()
    add_vm(f, "a", vcpus=8, workload="constant:1.0")  # 8 of 32 threads: 25 % -> 195 W
    assert f.host_stats("ra1").power_watts == pytest.approx(195.0)
    f.step(3600)
    assert f.host_stats("ra1").energy_j == pytest.approx(195.0 * 3600)


def test_persistence_round_trip(tmp_path):
    path = tmp_path / "fleet.db"
    f = open_fleet(path, create=lambda: build_demo(seed=3, hosts=16, vms=100))
    f.step(120)
    f.partition_host("rk1-h02")
    f.slow_link("rk2", 0.5)
    v = next(v for v in f.vms.values() if v.state == "running")
    f.set_vcpus(v.name, v.max_vcpus)
    host = next(h for h in f.hosts if h not in ("rk1-h02",))
    f.define_vm("new-001", host, vcpus=1, memory_mib=1024, network="prod")
    f.fail_next_migration("new-001", reason="boom")
    f.save()
    energy = f.energy_j
    f.file.close()
    g = open_fleet(path, create=lambda: pytest.fail("should load"))
    assert g.now == 120.0 and g.seed == 3
    assert set(g.vms) == set(f.vms) and "new-001" in g.vms
    assert g.vms[v.name].vcpus == v.max_vcpus
    assert {n: (x.host, x.state, x.datastore, x.uuid) for n, x in g.vms.items()} == {
        n: (x.host, x.state, x.datastore, x.uuid) for n, x in f.vms.items()
    }
    assert g.hosts["rk1-h02"].partitioned and g.racks["rk2"].uplink_factor == 0.5
    assert g.energy_j == pytest.approx(energy)
    assert g.fail_next == {"new-001": "boom"}
    # walk/trace utilization is not saved: workloads restart from their spec after a reopen
    # incremental save: only the changed VM row is written
    g.undefine_vm("new-001")
    other = next(v for v in g.vms.values() if v.state == "shut off")
    g.start_vm(other.name)
    assert g.file.save(g) == 1
    g.file.close()
    h = FleetFile(path).load()
    assert "new-001" not in h.vms and h.vms[other.name].state == "running"


def test_restart_aborts_running_migrations(tmp_path):
    path = tmp_path / "fleet.db"
    f = open_fleet(path, create=lambda: small_fleet())
    add_vm(f, "a", memory_gib=8)
    f.migrate("a", "rb1")
    f.step(1)
    f.save()
    g = FleetFile(path).load()
    assert g.migrations == {} and g.vms["a"].host == "ra1" and g.vms["a"].state == "running"


def test_failed_save_rolls_back(tmp_path):
    path = tmp_path / "fleet.db"
    f = open_fleet(path, create=lambda: small_fleet())
    add_vm(f, "a")
    f._dirty.add(("bogus-kind", "x"))
    with pytest.raises(KeyError):
        f.save()
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT count(*) FROM object WHERE kind = 'vm'").fetchone() == (0,)
    conn.close()


def test_run_fast_and_realtime():
    f = small_fleet()
    run_fast(f, 100.0, tick=7.0)
    assert f.now == pytest.approx(100.0)

    async def go() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(run_realtime(f, speed=1000.0, tick=0.01, stop_event=stop))
        await asyncio.sleep(0.1)
        stop.set()
        await task

    asyncio.run(go())
    assert f.now > 120.0
