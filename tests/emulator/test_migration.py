from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emulator import HostUnreachable, InvalidOperation

from .conftest import GIB, add_vm, small_fleet

RAWSTATS = {
    "time_elapsed",
    "data_total",
    "data_processed",
    "data_remaining",
    "memory_bps",
    "memory_dirty_rate",
    "memory_iteration",
    "downtime",
    "phase",
}


def run_until_done(f, m, limit: float = 3600.0) -> None:
    while m.state == "running" and f.now < limit:
        f.step(1.0)


def test_idle_4gib_over_10gbit_takes_one_round_of_3_4_seconds(fleet):
    add_vm(fleet, memory_gib=4)
    m = fleet.migrate("vm1", "ra2")
    assert set(m.jobinfo()) == RAWSTATS
    fleet.step(1.0)
    info = m.jobinfo()
    assert info["phase"] == "precopy" and info["memory_iteration"] == 1
    assert info["memory_bps"] == 1_250_000_000
    assert info["data_processed"] == 1_250_000_000
    assert info["data_remaining"] == 4 * GIB - 1_250_000_000
    run_until_done(fleet, m)
    assert m.state == "completed" and m.rounds == 1
    assert m.ended_at - m.started_at == pytest.approx(4 * GIB * 8 / 10e9)  # 3.436 s
    assert m.jobinfo()["time_elapsed"] == 3436
    assert m.jobinfo()["downtime"] == 0
    assert fleet.vms["vm1"].host == "ra2" and fleet.vms["vm1"].state == "running"
    assert "vm1" not in fleet.migrations and fleet.summary()["migrations_completed"] == 1
    assert "vm1" in [v.name for v in fleet.vms_on("ra2")]


def test_low_dirty_rate_converges_in_a_few_rounds(fleet):
    add_vm(fleet, memory_gib=4, dirty=300e6)  # 300 MB/s against 1.25 GB/s
    m = fleet.migrate("vm1", "ra2")
    run_until_done(fleet, m)
    assert m.state == "completed"
    # round 1: 4 GiB in 3.436 s dirties 1.03 GB (825 ms > 300 ms); round 2 takes 0.825 s
    # and dirties 247 MB, sent in 198 ms of downtime.
    t1 = 4 * GIB / 1.25e9
    t2 = 300e6 * t1 / 1.25e9
    down = 300e6 * t2 / 1.25e9
    assert m.rounds == 2
    info = m.jobinfo()
    assert info["downtime"] == round(down * 1000)
    assert m.ended_at - m.started_at == pytest.approx(t1 + t2 + down)
    assert info["data_processed"] == round(4 * GIB + 300e6 * (t1 + t2))


def test_dirty_rate_above_bandwidth_fails_after_max_rounds(fleet):
    add_vm(fleet, memory_gib=1, dirty=2e9)
    m = fleet.migrate("vm1", "ra2")
    run_until_done(fleet, m)
    assert m.state == "failed" and m.rounds == 30
    assert "did not converge" in m.reason
    assert fleet.vms["vm1"].host == "ra1" and fleet.vms["vm1"].state == "running"
    assert fleet.summary()["migrations_failed"] == 1


def test_max_rounds_is_honoured(fleet):
    add_vm(fleet, memory_gib=1, dirty=2e9)
    m = fleet.migrate("vm1", "ra2", max_rounds=5)
    run_until_done(fleet, m)
    assert m.state == "failed" and m.rounds == 5


def test_auto_converge_throttles_until_it_converges(fleet):
    add_vm(fleet, memory_gib=1, dirty=2e9)
    m = fleet.migrate("vm1", "ra2", auto_converge=True)
    throttles = []
    while m.state == "running":
        fleet.step(1.0)
        throttles.append(m.throttle)
    assert m.state == "completed"
    assert m.throttle >= 0.2
    assert throttles == sorted(throttles)
    assert m.jobinfo()["downtime"] <= 300


def test_large_step_subdivides_rounds_exactly():
    results = []
    for dt in (0.1, 1.0, 50.0):
        f = small_fleet()
        add_vm(f, memory_gib=4, dirty=300e6)
        m = f.migrate("vm1", "ra2")
        while m.state == "running":
            f.step(dt)
        results.append((m.rounds, m.ended_at - m.started_at, m.jobinfo()["data_processed"]))
    assert results[0][0] == results[1][0] == results[2][0]
    assert results[0][1] == pytest.approx(results[2][1])
    assert results[0][2] == pytest.approx(results[2][2], rel=1e-9)


@settings(max_examples=25, deadline=None)
@given(mem=st.integers(1, 16), dirty=st.floats(0, 5e8), dt=st.sampled_from([0.25, 1.0, 7.0]))
def test_migration_invariants(mem, dirty, dt):
    f = small_fleet()
    add_vm(f, memory_gib=mem, dirty=dirty)
    m = f.migrate("vm1", "ra2")
    while m.state == "running":
        f.step(dt)
        info = m.jobinfo()
        assert info["data_remaining"] >= 0 and info["data_processed"] >= 0
    assert m.state in ("completed", "failed")
    if m.state == "completed":
        assert f.vms["vm1"].host == "ra2" and m.jobinfo()["downtime"] <= 300
        assert m.jobinfo()["data_processed"] >= mem * GIB - 1
    else:
        assert f.vms["vm1"].host == "ra1"


def test_cross_rack_is_limited_by_the_uplink():
    f = small_fleet(nic_gbps=10.0, uplink_gbps=5.0)
    add_vm(f, memory_gib=4)
    same = f.migrate("vm1", "ra2")
    run_until_done(f, same)
    cross = f.migrate("vm1", "rb1")
    f.step(0.5)
    assert cross.jobinfo()["memory_bps"] == 625_000_000
    run_until_done(f, cross)
    same_s = same.ended_at - same.started_at
    assert (cross.ended_at - cross.started_at) == pytest.approx(2 * same_s)


def test_slow_link_slows_it(fleet):
    add_vm(fleet, memory_gib=4)
    fleet.slow_link("ra2", 0.25)
    m = fleet.migrate("vm1", "ra2")
    run_until_done(fleet, m)
    assert m.ended_at - m.started_at == pytest.approx(4 * 4 * GIB * 8 / 10e9)
    fleet.slow_link("ra", 0.5)  # a rack's uplink
    assert fleet.racks["ra"].uplink_factor == 0.5
    with pytest.raises(InvalidOperation):
        fleet.slow_link("nowhere", 0.5)


def test_concurrent_migrations_share_a_nic(fleet):
    add_vm(fleet, "a", memory_gib=4)
    add_vm(fleet, "b", memory_gib=4)
    ma = fleet.migrate("a", "ra2")
    mb = fleet.migrate("b", "rb1")
    fleet.step(1.0)
    assert ma.jobinfo()["memory_bps"] == mb.jobinfo()["memory_bps"] == 625_000_000


def test_abort_leaves_vm_on_source_running(fleet):
    add_vm(fleet, memory_gib=8)
    m = fleet.migrate("vm1", "ra2")
    fleet.step(2.0)
    fleet.abort_migration("vm1")
    assert m.state == "cancelled" and "vm1" not in fleet.migrations
    v = fleet.vms["vm1"]
    assert v.host == "ra1" and v.state == "running"
    with pytest.raises(InvalidOperation):
        fleet.abort_migration("vm1")
    fleet.step(10)
    assert fleet.vms["vm1"].host == "ra1"


def test_local_disk_needs_copy_storage(fleet):
    add_vm(fleet, memory_gib=2, datastore="local-ra1")
    with pytest.raises(InvalidOperation, match="copy-storage"):
        fleet.migrate("vm1", "ra2")
    m = fleet.migrate("vm1", "ra2", copy_storage=True)
    assert m.jobinfo()["phase"] == "copy-storage"
    assert m.jobinfo()["data_total"] == 10 * GIB + 2 * GIB
    run_until_done(fleet, m)
    assert m.state == "completed"
    assert m.ended_at - m.started_at == pytest.approx(12 * GIB * 8 / 10e9)
    v = fleet.vms["vm1"]
    assert v.host == "ra2" and v.datastore == "local-ra2"
    assert fleet.datastores["local-ra1"].used_gib == 0
    assert fleet.datastores["local-ra2"].used_gib == 10


def test_target_must_have_memory_and_be_reachable(fleet):
    add_vm(fleet, "big", host="ra2", memory_gib=58)
    add_vm(fleet, memory_gib=4)
    with pytest.raises(InvalidOperation, match="free"):
        fleet.migrate("vm1", "ra2")
    fleet.partition_host("rb1")
    with pytest.raises(HostUnreachable):
        fleet.migrate("vm1", "rb1")
    with pytest.raises(InvalidOperation):
        fleet.migrate("vm1", "ra1")


def test_cold_migration(fleet):
    add_vm(fleet, memory_gib=4, start=False)
    with pytest.raises(InvalidOperation, match="running or paused"):
        fleet.migrate("vm1", "ra2")
    m = fleet.migrate("vm1", "ra2", live=False)
    assert m.state == "completed" and fleet.vms["vm1"].host == "ra2"
    add_vm(fleet, "loc", memory_gib=4, start=False, datastore="local-ra1")
    m2 = fleet.migrate("loc", "rb2", live=False)
    assert m2.jobinfo()["phase"] == "cold"
    run_until_done(fleet, m2)
    assert m2.state == "completed"
    assert m2.ended_at - m2.started_at == pytest.approx(10 * GIB * 8 / 10e9)
    assert fleet.vms["loc"].datastore == "local-rb2"
    add_vm(fleet, "run", memory_gib=1)
    with pytest.raises(InvalidOperation, match="shut off"):
        fleet.migrate("run", "ra2", live=False)


def test_injected_failure_for_one_vm_then_any(fleet):
    add_vm(fleet, "a", memory_gib=4)
    add_vm(fleet, "b", memory_gib=4)
    fleet.fail_next_migration("a", reason="Connection reset by peer.")
    mb = fleet.migrate("b", "ra2")
    ma = fleet.migrate("a", "rb1")
    run_until_done(fleet, ma)
    run_until_done(fleet, mb)
    assert ma.state == "failed" and ma.reason == "Connection reset by peer."
    assert 0 < ma.jobinfo()["data_processed"] < 4 * GIB
    assert mb.state == "completed"
    fleet.fail_next_migration()
    m = fleet.migrate("b", "ra1")
    run_until_done(fleet, m)
    assert m.state == "failed" and fleet.vms["b"].host == "ra2"
    kinds = [e.kind for e in fleet.events_since(0)]
    assert "migration.failed" in kinds and "migration.done" in kinds


def test_a_vm_with_a_migration_in_flight_refuses_lifecycle_changes(fleet):
    """A VM started while its cold migration copies its disk would end up running on the
    target without the target's memory being checked: refused, naming the migration."""
    add_vm(fleet, "loc", memory_gib=4, start=False, datastore="local-ra1")
    m = fleet.migrate("loc", "rb2", live=False)
    for change in (fleet.start_vm, fleet.reboot_vm, fleet.suspend_vm, fleet.resume_vm):
        with pytest.raises(InvalidOperation, match=r"migrated from ra1 to rb2 \(migration 1\)"):
            change("loc")
    with pytest.raises(InvalidOperation, match="being migrated"):
        fleet.set_memory("loc", 8192)
    run_until_done(fleet, m)
    assert fleet.vms["loc"].state == "shut off" and fleet.vms["loc"].host == "rb2"
    add_vm(fleet, "live", memory_gib=4)
    fleet.suspend_vm("live")
    m2 = fleet.migrate("live", "ra2")
    with pytest.raises(InvalidOperation, match="being migrated"):
        fleet.resume_vm("live")
    run_until_done(fleet, m2)
    fleet.resume_vm("live")
    assert fleet.vms["live"].state == "running"
