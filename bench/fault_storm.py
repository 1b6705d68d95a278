"""The fault storm, long: random faults (host crash, power off, partition, slow link,
failed migration) interleaved with lifecycle changes, migrations, evacuations and HA
restarts on an emulated fleet driven through the ops Console, every guarantee checked
after every step (see bench/_storm.py).

    python bench/fault_storm.py [--faults 10000] [--seeds 5] [--hosts 10] [--vms 50]

The faults are spread over the seeds (one fleet and seeded storm per seed);
prints the faults survived, the steps and the invariant checks made. Exits 1 with the
broken guarantee, its seed and step, if one does not hold.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import sys
import time
from pathlib import Path

_path = Path(__file__).resolve().with_name("_storm.py")
_spec = importlib.util.spec_from_file_location("_storm", _path)
assert _spec and _spec.loader
_storm = importlib.util.module_from_spec(_spec)
sys.modules["_storm"] = _storm
_spec.loader.exec_module(_storm)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faults", type=int, default=10_000)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--hosts", type=int, default=10)
    parser.add_argument("--vms", type=int, default=50)
    args = parser.parse_args()
    per_seed = max(args.faults // args.seeds, 1)
    totals = {"faults": 0, "steps": 0, "changes": 0, "refused": 0, "checks": 0}
    kinds: dict[str, int] = {}
    began = time.perf_counter()
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        t0 = time.perf_counter()
        try:
            tally = asyncio.run(_storm.storm(seed, per_seed, hosts=args.hosts, vms=args.vms))
        except _storm.Broken as exc:
            print(f"seed {seed}: BROKEN: {exc}")
            return 1
        for key in totals:
            totals[key] += getattr(tally, key)
        for kind, n in tally.kinds.items():
            kinds[kind] = kinds.get(kind, 0) + n
        print(
            f"seed {seed}: {tally.faults:,} faults survived, {tally.steps:,} steps, "
            f"{tally.checks:,} invariant checks, {time.perf_counter() - t0:.1f} s"
        )
    elapsed = time.perf_counter() - began
    print(
        f"\n{totals['faults']:,} faults survived over {args.seeds} seeds "
        f"({args.hosts} hosts, {args.vms} VMs each): {totals['steps']:,} steps, "
        f"{totals['changes']:,} operator changes ({totals['refused']:,} refused or failed, "
        f"each said and audited), {totals['checks']:,} invariant checks, all held; "
        f"{elapsed:.0f} s"
    )
    print("by kind: " + ", ".join(f"{k} {n:,}" for k, n in sorted(kinds.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
