from __future__ import annotations

import pytest

from vdctui.model import (
    Datastore,
    DatastoreKind,
    Flavor,
    Host,
    HostState,
    Network,
    Pool,
    PoolUsage,
    Rack,
    Room,
    Site,
    Topology,
    Vm,
    VmState,
)
from vdctui.store import Store, StoreError

TOPOLOGY = Topology(
    sites=(Site("ams"), Site("fra")),
    rooms=(Room("ams-1", "ams"), Room("fra-1", "fra")),
    racks=(Rack("r1", "ams-1", "ams", 12.5, 40.0), Rack("r2", "fra-1", "fra", 8.0, 10.0)),
    datastores=(
        Datastore("san-ams", DatastoreKind.SHARED, 10240.0, room="ams-1"),
        Datastore("h1-local", DatastoreKind.LOCAL, 900.0, host="h1"),
    ),
    networks=(Network("prod", 100), Network("lab")),
)


def host(name: str, **changes: object) -> Host:
    base = Host(
        name=name, state=HostState.UP, rack="r1", room="ams-1", site="ams", model="R650",
        cpus=64, cores=32, mhz=2600, memory_mib=262144, nic_gbps=25.0, reserved_cpus=2,
        reserved_memory_mib=4096, datastores=("san-ams", f"{name}-local"), cpu_util=0.31,
        memory_used_mib=81920, power_watts=312.5, vm_count=7, reason="",
    )  # fmt: skip
    return Host(**{**{f: getattr(base, f) for f in Host.__slots__}, **changes})  # type: ignore[arg-type]


def vm(name: str, **changes: object) -> Vm:
    values: dict[str, object] = dict(
        name=name, state=VmState.RUNNING, host="h1", vcpus=2, memory_mib=4096, max_vcpus=8,
        max_memory_mib=16384, disk_gib=40.0, datastore="san-ams", network="prod", pool="web",
        uuid=f"uuid-{name}", cpu_util=0.2, memory_dirty_rate=1.5e6, uptime_s=3600.0,
    )  # fmt: skip
    values.update(changes)
    return Vm(**values)  # type: ignore[arg-type]


def test_topology_round_trip_and_replace(store: Store) -> None:
    assert store.topology() == Topology()
    store.replace_topology(TOPOLOGY)
    assert store.topology() == TOPOLOGY
    smaller = Topology(sites=(Site("fra"),), rooms=(Room("fra-1", "fra"),))
    store.replace_topology(smaller)
    assert store.topology() == smaller


def test_hosts_round_trip_and_upsert(store: Store) -> None:
    hosts = [host("h2"), host("h1", state=HostState.UNREACHABLE, reason="no route", datastores=())]
    store.upsert_hosts(hosts, seen_at=10.0)
    assert store.hosts() == sorted(hosts, key=lambda h: h.name)
    assert store.host("h1") == hosts[1]
    assert store.host("nope") is None
    store.upsert_hosts([host("h1", cpu_util=0.9)], seen_at=11.0)
    h1 = store.host("h1")
    assert h1 is not None and h1.cpu_util == 0.9 and h1.state is HostState.UP
    assert store.remove_hosts(["h2"]) == 1
    assert [h.name for h in store.hosts()] == ["h1"]


def test_vms_round_trip_upsert_and_remove(store: Store) -> None:
    a, b = vm("a"), vm("b", host=None, state=VmState.SHUTOFF, pool="")
    store.upsert_vms([a, b], seen_at=5.0)
    assert store.vm("a") == a
    assert store.vm("b") == b
    assert store.vm("zzz") is None
    assert store.vm_seen_at("a") == 5.0
    moved = vm("a", host="h9", state=VmState.PAUSED)
    store.upsert_vms([moved], seen_at=6.0)
    assert store.vm("a") == moved
    assert store.vm_seen_at("a") == 6.0
    assert store.remove_vms(["a", "missing"]) == 1
    assert store.vms() == [b]


@pytest.fixture
def fleet(store: Store) -> Store:
    vms = []
    for i in range(30):
        vms.append(
            vm(
                f"vm-{i:02d}",
                host=f"h{i % 3}",
                state=VmState.RUNNING if i % 2 == 0 else VmState.SHUTOFF,
                pool="web" if i < 10 else "db",
                vcpus=1 + i % 4,
                memory_mib=1024 * (1 + i % 5),
                cpu_util=i / 100,
            )
        )
    vms.append(vm("db_100%", host="h0", pool="db"))
    store.upsert_vms(vms)
    return store


def test_vms_filters_and_count(fleet: Store) -> None:
    assert fleet.count_vms() == 31
    on_h1 = fleet.vms(host="h1")
    assert [v.name for v in on_h1] == [f"vm-{i:02d}" for i in range(30) if i % 3 == 1]
    assert fleet.count_vms(host="h1") == len(on_h1) == 10
    assert fleet.count_vms(state=VmState.RUNNING) == 16
    assert fleet.count_vms(state="shutoff") == 15
    assert fleet.count_vms(pool="web", state=VmState.RUNNING) == 5
    assert {v.name for v in fleet.vms(text="-1")} == {f"vm-{i}" for i in range(10, 20)}
    assert [v.name for v in fleet.vms(text="100%")] == ["db_100%"]
    assert fleet.count_vms(text="_") == 1  # LIKE wildcards are taken literally
    assert fleet.vms(host="h1", pool="web", state=VmState.RUNNING, text="04") == [fleet.vm("vm-04")]


def test_vms_order_and_paging(fleet: Store) -> None:
    names = [v.name for v in fleet.vms()]
    assert names == sorted(names)
    assert [v.name for v in fleet.vms(descending=True)] == names[::-1]
    pages = [fleet.vms(limit=7, offset=o) for o in range(0, 31, 7)]
    assert [v.name for page in pages for v in page] == names
    by_util = fleet.vms(order_by="cpu_util", descending=True, limit=3)
    assert [v.name for v in by_util] == ["vm-29", "vm-28", "vm-27"]
    by_vcpus = fleet.vms(order_by="vcpus")
    assert [v.vcpus for v in by_vcpus] == sorted(v.vcpus for v in by_vcpus)
    ones = [v.name for v in by_vcpus if v.vcpus == 1]
    assert ones == sorted(ones)  # ties broken by name


def test_vms_refuses_an_unknown_order(fleet: Store) -> None:
    with pytest.raises(StoreError, match="cannot order VMs by 'name; DROP TABLE vms'"):
        fleet.vms(order_by="name; DROP TABLE vms")
    with pytest.raises(StoreError):
        fleet.vms(limit=-1)


def test_vms_query_uses_indexes(fleet: Store) -> None:
    plan = " ".join(
        str(row[-1])
        for row in fleet._db.execute(
            "EXPLAIN QUERY PLAN SELECT name FROM vms WHERE state = ? ORDER BY name LIMIT 50",
            ["running"],
        )
    )
    assert "idx_vms_state_name" in plan and "TEMP B-TREE" not in plan


def test_pools_crud(store: Store) -> None:
    web = Pool("web", cpu_reservation_mhz=4000, memory_limit_mib=65536, description="front")
    store.upsert_pool(web)
    store.upsert_pool(Pool("db"))
    assert store.pools() == [Pool("db"), web]
    assert store.pool("web") == web
    changed = Pool("web", cpu_overcommit=2.0)
    store.upsert_pool(changed)
    assert store.pool("web") == changed
    assert store.delete_pool("web") is True
    assert store.delete_pool("web") is False
    assert store.pool("web") is None


def test_pool_usage(fleet: Store) -> None:
    fleet.upsert_pool(Pool("web"))
    fleet.upsert_pool(Pool("db"))
    fleet.upsert_pool(Pool("empty"))
    usage = {u.pool.name: u for u in fleet.pool_usage()}
    web = [fleet.vm(f"vm-{i:02d}") for i in range(10)]
    assert usage["web"] == PoolUsage(
        pool=Pool("web"),
        vm_count=10,
        running=5,
        vcpus=sum(v.vcpus for v in web if v),
        memory_mib=sum(v.memory_mib for v in web if v),
    )
    assert usage["db"].vm_count == 21 and usage["db"].running == 11
    assert usage["empty"] == PoolUsage(Pool("empty"), 0, 0, 0, 0)


def test_flavors_are_seeded_and_editable(store: Store) -> None:
    flavors = store.flavors()
    shared = [f.name for f in flavors if f.cpu_policy == "shared"]
    assert shared == ["tiny", "small", "medium", "large", "xlarge"]
    dedicated = [f.name for f in flavors if f.cpu_policy == "dedicated"]
    assert dedicated == ["dedicated-small", "dedicated-medium", "dedicated-large", "dedicated-wide"]
    assert [f.cpu_numa for f in flavors if f.cpu_policy == "dedicated"][-1] == "spread"
    assert store.flavor("tiny") == Flavor("tiny", 1, 512, 10.0, 2, 2048)
    for f in flavors:
        assert 2 * f.vcpus <= f.max_vcpus <= 4 * f.vcpus
        assert 2 * f.memory_mib <= f.max_memory_mib <= 4 * f.memory_mib
    store.upsert_flavor(Flavor("tiny", 1, 1024, 10.0, 2, 4096))
    assert store.flavor("tiny") == Flavor("tiny", 1, 1024, 10.0, 2, 4096)
    assert store.delete_flavor("tiny") and store.flavor("tiny") is None


def test_allocated_by_host_counts_what_is_not_shut_off(store) -> None:  # type: ignore[no-untyped-def]
    from vdctui.model import Vm, VmState

    def vm(name: str, host: str, state: VmState, vcpus: int, memory: int) -> Vm:
        return Vm(
            name=name,
            state=state,
            host=host,
            vcpus=vcpus,
            memory_mib=memory,
            max_vcpus=vcpus,
            max_memory_mib=memory,
        )

    store.upsert_vms(
        [
            vm("a", "h1", VmState.RUNNING, 2, 1024),
            vm("b", "h1", VmState.PAUSED, 4, 512),
            vm("c", "h1", VmState.SHUTOFF, 8, 8192),
            vm("d", "h2", VmState.SHUTOFF, 1, 1),
        ]
    )
    assert store.allocated_by_host() == {"h1": (6, 1536)}


def test_the_topology_read_is_kept_until_someone_replaces_it(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A store keeps the topology it read (a big one is not read every refresh), and reads
    it again once it replaced it, or once another process (connection) wrote the file."""
    smaller = Topology(sites=(Site("fra"),), rooms=(Room("fra-1", "fra"),))
    with Store(tmp_path / "vdctui.db") as mine, Store(tmp_path / "vdctui.db") as other:
        mine.replace_topology(TOPOLOGY)
        assert mine.topology() == TOPOLOGY
        assert mine.topology() is mine.topology()  # kept
        other.replace_topology(smaller)
        assert mine.topology() == smaller
        mine.replace_topology(TOPOLOGY)
        assert mine.topology() == TOPOLOGY == other.topology()


def test_rack_totals_add_up_what_the_hosts_say(store: Store) -> None:
    """The tree's first frame reads each rack's totals in one query: the same figures as
    adding up the hosts read one by one (unknown draw counted apart, never as 0)."""
    from vdctui.ui.screens.host_detail import kilowatts, rack_totals

    hosts = [
        host("h1"),
        host("h2", power_watts=None),
        host("h3", state=HostState.UNREACHABLE, power_watts=None),
        host("h4", rack="r2", room="fra-1", site="fra", power_watts=None),
        host("h5", rack="r2", room="fra-1", site="fra", power_watts=None),
    ]
    store.upsert_hosts(hosts)
    totals = store.rack_totals()
    for rack in ("r1", "r2"):
        assert totals[rack] == rack_totals([h for h in hosts if h.rack == rack])
    assert (totals["r1"].hosts, totals["r1"].no_reading, totals["r1"].not_up) == (3, 2, 1)
    assert kilowatts(totals["r1"]) == "≥0.3"  # some draws unknown: at least
    assert kilowatts(totals["r2"]) == "—"  # none known: unknown, not 0.0
