"""Benchmark the store's audit log (and the VM page query) on a temporary file.

    python bench/store_audit.py                  # 1,000,000 audit records, 100,000 VMs
    python bench/store_audit.py --records 50000  # a quick run

Prints: append rate on an unsealed log and on a sealed one (15-minute epochs,
the store's clock one second per record, so epochs end and keys are erased as
the records go in), median time of one VM's history among all records
(`audit(target=...)`), time to verify the whole chain and the seals, the file
size, and the time of a few VM page queries at --vms VMs. The system log copy
is off here (the bench measures the store).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from pathlib import Path

from vdctui.model import Role, Vm, VmState
from vdctui.store import AuditEntry, Store

ACTIONS = ("vm.start", "vm.stop", "vm.migrate", "vm.resize", "pool.update", "host.maintenance")
ACTORS = ("alice", "bob", "carol", "ops-bot", "dave")
SEAL_KEY: list[str] = []


def median_ms(fn: object, runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


class BenchClock:
    """The store's clock: one second per record appended, so sealed epochs do end."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def bench_audit(
    store: Store,
    clock: BenchClock,
    records: int,
    targets: int,
    batch: int,
    queries: int,
    label: str,
) -> None:
    rng = random.Random(42)
    names = [f"vm-{i:06d}" for i in range(targets)]
    t_start = clock.now
    appended = 0
    spent = 0.0
    while appended < records:
        clock.now = t_start + appended
        n = min(batch, records - appended)
        entries = [
            AuditEntry(
                actor=rng.choice(ACTORS),
                role=Role.OPERATOR,
                action=rng.choice(ACTIONS),
                target=rng.choice(names),
                params={"host": f"h{rng.randrange(400)}", "vcpus": rng.randrange(1, 33)},
                result="ok" if rng.random() < 0.95 else "refused",
                ts=t_start + appended + i,
            )
            for i in range(n)
        ]
        t0 = time.perf_counter()
        store.append_audit_many(entries)
        spent += time.perf_counter() - t0
        appended += n
    print(f"append:   {records:,} {label} records in batches of {batch:,}: {spent:.2f} s "
          f"= {records / spent:,.0f} records/s")  # fmt: skip
    if label != "sealed":
        return

    picks = [rng.choice(names) for _ in range(queries)]
    sizes: list[int] = []
    times: list[float] = []
    for name in picks:
        t0 = time.perf_counter()
        rows = store.audit(target=name)
        times.append((time.perf_counter() - t0) * 1000)
        sizes.append(len(rows))
    print(f"query:    audit(target=vm) median {statistics.median(times):.3f} ms, "
          f"p95 {sorted(times)[int(0.95 * len(times)) - 1]:.3f} ms over {queries} VMs "
          f"(~{statistics.mean(sizes):.1f} records each)")  # fmt: skip
    page = median_ms(lambda: store.audit(limit=50, offset=0), queries)
    actor = median_ms(lambda: store.audit(actor="alice", limit=50), queries)
    print(f"query:    newest 50 {page:.3f} ms; newest 50 by one actor {actor:.3f} ms")

    t0 = time.perf_counter()
    problems = store.verify_audit()
    spent = time.perf_counter() - t0
    print(f"verify:   chain of {records:,} records in {spent:.2f} s = "
          f"{records / spent:,.0f} records/s, {len(problems)} problems")  # fmt: skip
    t0 = time.perf_counter()
    check = store.check_audit(key=SEAL_KEY[0])
    spent = time.perf_counter() - t0
    print(f"verify:   chain and seals with the key in {spent:.2f} s = "
          f"{records / spent:,.0f} records/s, {len(check.problems)} problems")  # fmt: skip


def bench_vms(store: Store, count: int, queries: int) -> None:
    rng = random.Random(7)
    states = [VmState.RUNNING] * 8 + [VmState.SHUTOFF, VmState.PAUSED]
    vms = [
        Vm(
            name=f"vm-{i:06d}",
            state=rng.choice(states),
            host=f"h{rng.randrange(400)}",
            vcpus=rng.choice((1, 2, 4, 8)),
            memory_mib=rng.choice((1024, 4096, 16384)),
            max_vcpus=16,
            max_memory_mib=65536,
            pool=f"pool-{rng.randrange(20)}",
            cpu_util=rng.random(),
        )  # fmt: skip
        for i in range(count)
    ]
    t0 = time.perf_counter()
    store.upsert_vms(vms, seen_at=1.0)
    spent = time.perf_counter() - t0
    print(f"vms:      upsert {count:,} VMs in {spent:.2f} s")
    cases = {
        "page 50 by name, offset 5000": lambda: store.vms(limit=50, offset=5000),
        "running, page 50 by name": lambda: store.vms(state=VmState.RUNNING, limit=50),
        "one host, all": lambda: store.vms(host="h17"),
        "one pool, running, page 50": lambda: store.vms(
            pool="pool-3", state=VmState.RUNNING, limit=50
        ),
        "count running": lambda: store.count_vms(state=VmState.RUNNING),
        "text '0042', page 50": lambda: store.vms(text="0042", limit=50),
        "by cpu_util desc, page 50": lambda: store.vms(
            order_by="cpu_util", descending=True, limit=50
        ),
    }
    for label, fn in cases.items():
        print(f"vms:      {label}: median {median_ms(fn, min(queries, 30)):.3f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--targets", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--vms", type=int, default=100_000, help="0 to skip the VM queries")
    parser.add_argument("--dir", type=Path, default=None, help="where to put the temp file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        plain = BenchClock(1_700_000_000.0)
        with Store(Path(tmp) / "plain.db", clock=plain, syslog="off") as store:
            bench_audit(store, plain, args.records, args.targets, args.batch, 0, "unsealed")
        for leftover in Path(tmp).iterdir():
            leftover.unlink()
        path = Path(tmp) / "bench.db"
        clock = BenchClock(1_700_000_000.0)
        store = Store(path, clock=clock, syslog="off")
        SEAL_KEY.append(store.seal_audit(epoch_s=900))
        bench_audit(store, clock, args.records, args.targets, args.batch, args.queries, "sealed")
        epochs = store._db.execute("SELECT COUNT(*) FROM audit_seal_tags").fetchone()[0] - 1
        print(f"seal:     {epochs:,} epoch closings (15-min epochs; the store's clock at one "
              "second per record, read once per batch)")  # fmt: skip
        if args.vms:
            bench_vms(store, args.vms, args.queries)
        store._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        store.close()
        size = sum(os.path.getsize(p) for p in Path(tmp).iterdir())
        print(f"file:     {size / 2**20:,.1f} MiB ({size / max(args.records, 1):,.0f} B/record "
              "incl. VMs and indexes)")  # fmt: skip


if __name__ == "__main__":
    main()
