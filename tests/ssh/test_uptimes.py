"""Uptimes between process probes: when a poll on a kept-open virsh needs the probe again."""

from __future__ import annotations

import pytest

from vdctui.drivers.ssh.clocks import NodeCpuTimes, ProcessTimes
from vdctui.drivers.ssh.uptimes import REPROBE_S, UptimeBook

CPUS = 4


def host_clock(seconds: float) -> NodeCpuTimes:
    return NodeCpuTimes(0, int(seconds * CPUS * 1e9))


def probed_book() -> UptimeBook:
    book = UptimeBook()
    processes = ProcessTimes(1000.0, 100, {"a": 90_000, "b": 99_000})  # a: 100 s, b: 10 s
    running: dict[str, int | None] = {"a": 5_000, "b": 7_000, "c": None}  # c: no pidfile
    book.probed("h", processes, running, host_clock(1000.0), CPUS, at=50.0)
    book.seen("h", running)
    return book


def test_uptime_moves_with_the_clock_between_probes() -> None:
    book = probed_book()
    assert book.uptime("h", "a", 50.0) == pytest.approx(100.0)
    assert book.uptime("h", "b", 60.0) == pytest.approx(20.0)
    assert book.uptime("h", "c", 60.0) is None  # the probe did not find it: unknown
    assert book.uptime("other", "a", 60.0) is None
    running = {"a": 6_000, "b": 8_000, "c": None}
    assert not book.needs_probe("h", running, host_clock(1010.0), CPUS, 60.0)


@pytest.mark.parametrize(
    ("running", "host_s", "now", "why"),
    [
        ({"a": 6_000, "b": 8_000, "d": 1}, 1010.0, 60.0, "a VM the probe did not see"),
        ({"a": 4_000, "b": 8_000}, 1010.0, 60.0, "a's cpu.time went down: it restarted"),
        ({"a": 6_000, "b": 8_000}, 1040.0, 60.0, "the host's clock moved 40 s, ours 10 s"),
        ({"a": 6_000, "b": 8_000}, None, 50.0 + REPROBE_S + 1, "the probe is too old"),
    ],
)
def test_the_probe_runs_again_when_an_uptime_could_be_wrong(
    running: dict[str, int | None], host_s: float | None, now: float, why: str
) -> None:
    book = probed_book()
    times = host_clock(host_s) if host_s is not None else None
    assert book.needs_probe("h", running, times, CPUS, now), why


def test_a_vm_that_stopped_is_probed_again_when_it_runs() -> None:
    book = probed_book()
    book.seen("h", {"a": 6_000})  # b stopped
    assert book.uptime("h", "b", 60.0) is None
    assert book.needs_probe("h", {"a": 6_500, "b": 10}, host_clock(1010.0), CPUS, 60.0)
