"""Consolidation on real traces: replay a day of PlanetLab CPU traces with CloudSim's
reference setup; compare our balancer with the plain baselines, with CloudSim's own
policies run in the same replay, and with CloudSim's published figures.

    python bench/consolidation.py --traces ../shared/traces/planetlab/20110303 \
        --reference ../shared/traces/planetlab/README.md --ram cloudsim \
        [--workload cloudsim] [--cloudsim] [--thresholds 1-5] [--threshold 3] [--hosts 800]
    python bench/consolidation.py --traces ../shared/traces/planetlab/20110303 \
        --engine fleet [--vms 100] [--hours 6]   # the emulator itself, beside the replay

Setup (from the traces' README): 800 hosts alternating HP ML110 G4 (2 x 1860 MIPS,
curve 86..117 W) and G5 (2 x 2660 MIPS, 93.7..135 W), 4096 MB each, 1 Gbit/s; one VM
per trace file (sorted), four types in contiguous blocks; a VM's demand = its MIPS x
trace / 100; 300 s intervals; a migration lasts RAM / (1 Gbit/s / 2) and the VM loses
10 % of its demand meanwhile; an empty host is off (0 W). Energy is counted over the
287 intervals between the 288 samples (NPA: 2410.8 kWh); on the "cloudsim" workload
from CloudSim's first update on, as CloudSim counts it (bench/_replay.py).

SLA and energy are measured as CloudSim 3.0.3 measures them (bench/_cloudsim_sla.py):
one PE per VM capped at the host's PE MIPS, proportional scaling on oversubscribed hosts,
a migrating VM at 10 % on its target and 90 % on its source for RAM / 62.5 MB/s, host
and VM state histories cut at migration completions, SLATAH over active host time, PDM
as Helper's ratio of totals (migration shortfall / all requested MIPS x s), energy as the
trapezoid between updates. With `--ram cloudsim` RAM bounds only the first placement
(CloudSim reserves full RAM at creation, then 0 MB). The "no migrations" baseline is
our RAM-bound first placement kept all day (compare with CloudSim's DVFS row).

`--cloudsim` runs CloudSim's own policies (THR-MMT-1.0/0.8, IQR-MMT-1.5, MAD-MMT-2.5,
LR-MMT-1.2: bench/_cloudsim_policies.py, as CloudSim 3.0.3's source decides) in this
replay and, with `--reference` on the "cloudsim" workload, prints each figure beside
CloudSim's own with the difference: that validates the replay's model where it matters
(migrations and SLA), not only with NPA.

`--engine fleet` steps the product's own simulator over the day instead, with the
console's balancer deciding and carrying out its plans through the code `:balance power`
and `vdctui balance --apply` use, and prints its figures beside the replay's on the same
traces, with where and why they differ (bench/_fleet_engine.py). `--vms N` and `--hours
H` keep a run short.

Workloads: "full" keeps every VM all day; "cloudsim" removes a VM for good when it asks
0 MIPS at an update, as CloudSim does (HostDynamicWorkload.getCompletedVms): 531 of
the 1,052 VMs on 20110303. CloudSim's published figures are on that workload.

Our policy (vdctui.ops.balancer.recommend, goal "power"): every interval, with each
VM's demand predicted as its peak over the last `--window` samples, relieve hosts
above the threshold's target utilization (and VMs whose vCPU wants more than target of
a host core, onto faster cores), then empty the hosts with the fewest VMs whose VMs fit
elsewhere under target less the threshold's minimum gain (packing headroom). Nothing
here is fitted to one day. `--thresholds 1-5` prints its energy/SLA trade-off.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import _cloudsim_policies as cloudsim
import _fleet_engine as fleet_engine
import _replay as replay
import _report as report

from emulator.traced import hosts_for
from vdctui.ops.balancer import THRESHOLDS


def thresholds(text: str) -> list[int]:
    """ "1-5" or "1,3,5" -> [1, ...]: the balancer thresholds to print the trade-off of."""
    if "-" in text:
        lo, hi = (int(x) for x in text.split("-", 1))
        out = list(range(lo, hi + 1))
    else:
        out = [int(x) for x in text.split(",") if x.strip()]
    bad = [t for t in out if t not in THRESHOLDS]
    if bad:
        raise argparse.ArgumentTypeError(f"thresholds run from 1 to 5, not {bad}")
    return out


def vm_subset(text: str) -> str | int:
    """ "all", "even", "odd", or a number of VMs."""
    if text in ("all", "even", "odd"):
        return text
    if text.isdigit() and int(text) > 0:
        return int(text)
    raise argparse.ArgumentTypeError(f"give all, even, odd or a number of VMs, not {text!r}")


def timed(label: str, fn, *args, **kwargs) -> tuple[dict[str, float], str]:
    t0 = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, f"{label} ({time.perf_counter() - t0:.0f} s)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--traces", type=Path, required=True)
    parser.add_argument(
        "--reference",
        type=Path,
        default=None,
        help="The traces' README, with CloudSim's published figures to compare with.",
    )
    parser.add_argument(
        "--hosts",
        type=int,
        default=None,
        help="Hosts (default: CloudSim's 800 per 1,052 VMs, 800 for the whole day).",
    )
    parser.add_argument(
        "--engine",
        choices=["replay", "fleet"],
        default="replay",
        help="replay: this benchmark's interval model; fleet: the emulator itself, stepped "
        "over the day with the console's balancer carrying out its plans, beside the "
        "replay of the same traces (see bench/_fleet_engine.py).",
    )
    parser.add_argument(
        "--hours",
        type=int,
        default=24,
        help="Replay only the first H hours of the day (a shorter run).",
    )
    parser.add_argument("--threshold", type=int, default=3, choices=sorted(THRESHOLDS))
    parser.add_argument(
        "--thresholds",
        type=thresholds,
        default=[],
        help='The balancer\'s energy/SLA trade-off over these thresholds ("1-5").',
    )
    parser.add_argument(
        "--ram",
        choices=["strict", "cloudsim"],
        default="strict",
        help="strict: VMs hold their RAM on a host (4096 MB); cloudsim: RAM "
        "does not bound consolidation, as in CloudSim's examples.",
    )
    parser.add_argument(
        "--workload",
        choices=replay.WORKLOADS,
        default="full",
        help="full: every VM all day; cloudsim: a VM asking 0 MIPS at an update is "
        "removed for good, and nothing counts before the first update, as in CloudSim.",
    )
    parser.add_argument(
        "--cloudsim",
        action="store_true",
        help="Also run CloudSim's own policies in this replay (with --reference and "
        "--workload cloudsim: beside CloudSim's published figures).",
    )
    parser.add_argument(
        "--start-hour",
        type=int,
        default=0,
        help="Start the day at this hour (the traces wrap around): a held-out variant.",
    )
    parser.add_argument(
        "--vms",
        type=vm_subset,
        default="all",
        help="Replay every VM, or one of two disjoint halves (every other trace file): a "
        "held-out variant; or N of them, spread over the files (a shorter run).",
    )
    parser.add_argument(
        "--window",
        type=int,
        default=3,
        help="Samples over which a VM's demand is predicted as its peak.",
    )
    args = parser.parse_args()
    if args.engine == "fleet" and (args.workload, args.cloudsim) != ("full", False):
        parser.error(
            "--engine fleet runs every VM all day: leave out --workload cloudsim and --cloudsim."
        )
    try:
        traces = replay.variant(
            replay.load_traces(args.traces), args.start_hour, args.vms, args.hours
        )
    except ValueError as exc:
        parser.error(str(exc))
    args.hosts = args.hosts or hosts_for(len(traces))
    steps = min(len(t) for t in traces)
    print(
        f"{args.traces.name} from {args.start_hour:02d}:00, VMs {args.vms}: {len(traces)} VMs, "
        f"{steps} samples, {args.hosts} hosts, RAM model {args.ram}, workload "
        f"{args.workload}, window {args.window}"
    )
    if args.engine == "fleet":
        fleet_engine.compare(traces, args.hosts, args.threshold, args.window, args.ram)
        return
    if (args.start_hour, args.vms, args.hours) != (0, "all", 24):
        reference = {}  # CloudSim's figures are for the day as it is
    else:
        reference = report.parse_reference(args.reference.read_text()) if args.reference else {}
    print(report.HEADER)
    print("|---|---|---|---|---|---|---|")
    npa = replay.npa(args.hosts, steps)
    print(f"| NPA (check: 2410.8) | {npa['energy_kwh']:.2f} | - | - | - | - | 0 |")
    ours = [("static", args.threshold)] + [
        ("balancer", t) for t in sorted({args.threshold, *args.thresholds})
    ]
    notes: list[str] = []
    balancer: dict[int, report.Figures] = {}
    for policy, threshold in ours:
        label = "no migrations" if policy == "static" else f"vdctui balancer {threshold}"
        r, note = timed(
            label,
            replay.run_ours,
            traces,
            args.hosts,
            policy,
            threshold,
            args.window,
            args.ram,
            args.workload,
        )
        figures = report.Figures.of(r)
        if policy == "balancer":
            balancer[threshold] = figures
        print(report.row(label, figures))
        causes = ", ".join(
            f"{k[7:]} {100 * v:.2f}%" for k, v in r.items() if k.startswith("slatah ")
        )
        notes.append(f"{note}: SLATAH time with {causes}" if causes else note)
    replayed: dict[str, report.Figures] = {}
    if args.cloudsim:
        compare = bool(reference) and args.workload == "cloudsim"
        print(
            "\nCloudSim 3.0.3's policies in this replay"
            + (" (CloudSim's own figure, difference):" if compare else ":")
        )
        print(report.HEADER + (" verdict |" if compare else ""))
        print("|---|---|---|---|---|---|---|" + ("---|" if compare else ""))
        for policy in cloudsim.POLICIES:
            r, note = timed(
                policy.name, replay.run_cloudsim, traces, args.hosts, policy, args.workload
            )
            replayed[policy.name] = report.Figures.of(r)
            theirs = reference.get(policy.name) if compare else None
            print(report.row(policy.name, replayed[policy.name], theirs))
            notes.append(f"{note}, {r['removed']} VMs removed")
    print("\n" + "\n".join(notes))
    if balancer and (reference or replayed):
        judged = [("CloudSim's figures", reference)] if args.workload == "cloudsim" else []
        judged += [("CloudSim's policies in this replay", replayed)] if replayed else []
        for source, figures in judged:
            if not figures:
                continue
            name, best = report.best_esv(figures)
            print(f"\nAgainst the best ESV of {source} ({name}, ESV {best.esv:.5f}):")
            for threshold, f in sorted(balancer.items()):
                print(f"  balancer {threshold}: " + "; ".join(report.goal(f, best)))


if __name__ == "__main__":
    main()
