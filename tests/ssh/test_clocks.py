"""A host's CPU % from nodecpustats and a VM's uptime from its QEMU process: parsing and deltas."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vdctui.drivers.ssh import commands
from vdctui.drivers.ssh.clocks import (
    HostCpuMeter,
    NodeCpuTimes,
    parse_nodecpustats,
    parse_processes,
)
from vdctui.drivers.ssh.parsers import VirshOutputError

# `LC_ALL=C virsh -q nodecpustats` on a lab host (libvirt 9.0, Debian 12)
REAL_NODECPUSTATS = """user:                 16154380000000
system:                2794740000000
idle:                  3261060000000
iowait:                  25250000000
"""
# what the probe printed on a lab host with one running guest, t1 (and libvirt's own
# driver.pid beside it, which is libvirtd's, not a guest's)
REAL_PROBE = (
    "uptime 11176.14 3261.06\n"
    "ticks 100\n"
    "/run/libvirt/qemu/driver.pid\t1893 (libvirtd) S 1870 1893 1870 0 -1 4194560 "
    + "0 "
    * 12
    + "1117000 0 0\n"
    "/run/libvirt/qemu/t1.pid\t2685 (qemu-system-x86) S 1 2684 2684 0 -1 138412416 5973 0 0 "
    "0 7 62 0 0 20 0 6 0 1117528 462680064 10712 18446744073709551615 94519996178432\n"
)


def test_nodecpustats_busy_and_total() -> None:
    times = parse_nodecpustats(REAL_NODECPUSTATS)
    assert times.busy_ns == 16154380000000 + 2794740000000
    assert times.total_ns == times.busy_ns + 3261060000000 + 25250000000


@pytest.mark.parametrize(
    "text", ["", "user: 1\n", "user: x\nsystem: 1\nidle: 2\n", "user: -1\nsystem: 1\nidle: 2\n"]
)
def test_nodecpustats_unreadable_is_an_error(text: str) -> None:
    with pytest.raises(VirshOutputError):
        parse_nodecpustats(text)


def test_host_cpu_is_unknown_until_the_second_sample() -> None:
    meter = HostCpuMeter()
    assert meter.sample("h", NodeCpuTimes(100, 1000)) is None  # one sample: unknown
    assert meter.sample("h", NodeCpuTimes(400, 2000)) == pytest.approx(0.3)
    assert meter.sample("h", NodeCpuTimes(400, 2000)) is None  # no time passed
    assert meter.sample("h", NodeCpuTimes(10, 100)) is None  # counters went back: rebooted
    assert meter.sample("h", None) is None  # not read: unknown, and starts over
    assert meter.sample("h", NodeCpuTimes(500, 3000)) is None


@given(st.lists(st.tuples(st.integers(0, 10**15), st.integers(0, 10**15)), max_size=8))
def test_host_cpu_is_a_fraction_or_unknown(samples: list[tuple[int, int]]) -> None:
    meter = HostCpuMeter()
    for busy, idle in samples:
        util = meter.sample("h", NodeCpuTimes(busy, busy + idle))
        assert util is None or 0.0 <= util <= 1.0


def test_uptime_is_the_hosts_uptime_less_the_qemu_start() -> None:
    probe = parse_processes(REAL_PROBE)
    assert probe is not None
    assert probe.uptime_of("t1") == pytest.approx(11176.14 - 11175.28)
    assert probe.uptime_of("driver") is None  # libvirtd's pidfile is not a guest
    assert probe.uptime_of("other") is None  # no pidfile: unknown


@pytest.mark.parametrize(
    "text",
    [
        "",  # the probe did not run (the host is not qemu:///system, or has no awk)
        "ticks 100\n/run/libvirt/qemu/t1.pid\t2685 (qemu) S 1\n",  # no uptime
        "uptime 5.0 1.0\n",  # no clock ticks
        "uptime x 1\nticks 100\n",
    ],
)
def test_uptime_unknown_where_the_probe_could_not_read(text: str) -> None:
    probe = parse_processes(text)
    assert probe is None or probe.uptime_of("t1") is None


def test_a_stat_line_cut_short_or_odd_is_skipped() -> None:
    text = (
        "uptime 100.0 1\nticks 100\n"
        "/run/libvirt/qemu/a.pid\t12 (qemu) S 1 2\n"  # cut short
        "/run/libvirt/qemu/b.pid\t13 (qemu) x) S" + " 1" * 18 + " 5000 9\n"  # ')' in comm
        "/run/libvirt/qemu/c d.pid\t14 (kvm) S" + " 0" * 18 + " 9000 9\n"  # space in name
    )
    probe = parse_processes(text)
    assert probe is not None
    assert probe.uptime_of("a") is None
    assert probe.uptime_of("b") == pytest.approx(50.0)
    assert probe.uptime_of("c d") == pytest.approx(10.0)


def test_the_probe_runs_only_where_the_pidfiles_are_known() -> None:
    sections = commands.Sections("0123456789abcdef")
    system = commands.poll("qemu:///system", sections)
    assert system.endswith(f"{commands.quote(commands.PROCESS_PROBE)} /run/libvirt/qemu/*.pid")
    assert "@@vdctui-0123456789abcdef:processes@@" in system
    assert "nodecpustats" in system
    assert "awk" not in commands.poll("test:///default", sections)
