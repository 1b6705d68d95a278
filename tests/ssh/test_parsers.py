"""Parsers of virsh output: real libvirt 9 output, missing fields, and fuzzing."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vdctui.drivers.ssh.parsers import (
    JOB_COMPLETED,
    VirshOutputError,
    parse_dominfo,
    parse_domstats,
    parse_jobinfo,
    parse_names,
    parse_nodeinfo,
)
from vdctui.model import VmState

# What `LC_ALL=C virsh -q -c test:///default ...` prints (libvirt 9.0, Debian 12).
REAL_NODEINFO = """CPU model:           i686
CPU(s):              16
CPU frequency:       1400 MHz
CPU socket(s):       2
Core(s) per socket:  2
Thread(s) per core:  2
NUMA cell(s):        2
Memory size:         3145728 KiB
"""
REAL_DOMSTATS = """Domain: 'test'
  state.state=1
  state.reason=0

"""
REAL_DOMINFO = """Id:             1
Name:           test
UUID:           6695eb01-f6a4-8304-79aa-97f2502e193f
OS Type:        linux
State:          running
CPU(s):         2
CPU time:       1795701725.5s
Max memory:     8388608 KiB
Used memory:    2097152 KiB
Persistent:     yes
Autostart:      disable
Managed save:   no
Security model: testSecurity
Security DOI:   {blank}
Security label: libvirt-test (enforcing)
""".format(blank="")
REAL_POOLS = "default-pool        \n"
KVM_DOMSTATS = """Domain: 'web-01'
  state.state=1
  state.reason=1
  cpu.time=123456789000
  balloon.current=4194304
  balloon.maximum=8388608
  vcpu.current=2
  vcpu.maximum=4
  block.count=1
  block.0.name=vda
  block.0.path=/var/lib/libvirt/images/san-1/web-01.qcow2
  block.0.capacity=42949672960

Domain: 'db-01'
  state.state=5
  state.reason=1
  balloon.current=33554432
  balloon.maximum=67108864
  vcpu.current=8
  vcpu.maximum=16

"""
JOBINFO = """Job type: 2

operation: 3
time_elapsed: 1500
data_total: 4294967296
data_processed: 1073741824
data_remaining: 3221225472
memory_bps: 3125000000
memory_dirty_rate: 1024
memory_iteration: 1
downtime: 300
"""


def test_real_nodeinfo() -> None:
    node = parse_nodeinfo(REAL_NODEINFO)
    assert (node.model, node.cpus, node.mhz, node.memory_mib) == ("i686", 16, 1400, 3072)
    assert node.cores == 2 * 2 * 2


def test_real_domstats_has_state_only() -> None:
    [stats] = parse_domstats(REAL_DOMSTATS)
    assert stats.name == "test" and stats.state is VmState.RUNNING and not stats.complete


def test_kvm_domstats() -> None:
    web, db = parse_domstats(KVM_DOMSTATS)
    assert web.complete and web.get_int("vcpu.maximum") == 4
    assert web.fields["block.0.path"].endswith("san-1/web-01.qcow2")
    assert db.state is VmState.SHUTOFF and db.get_int("cpu.time") is None


def test_real_dominfo() -> None:
    info = parse_dominfo(REAL_DOMINFO)
    assert (info.name, info.state, info.vcpus) == ("test", VmState.RUNNING, 2)
    assert (info.memory_mib, info.max_memory_mib) == (2048, 8192)
    assert info.uuid.startswith("6695eb01")


def test_names_strip_virsh_padding() -> None:
    assert parse_names(REAL_POOLS) == ["default-pool"]
    assert parse_names("a\n\nb c\n") == ["a", "b c"]


def test_jobinfo_progress() -> None:
    info = parse_jobinfo(JOBINFO)
    assert info.active
    progress = info.progress()
    assert progress.data_processed == 1 << 30 and progress.memory_iteration == 1
    assert progress.phase == "precopy" and 0 < progress.percent < 100
    done = parse_jobinfo(f"Job type: {JOB_COMPLETED}\n\ntime_elapsed: 9\n")
    assert not done.active and done.progress().phase == "done"
    assert parse_jobinfo("Job type: 0\n\n").fields == {}


@pytest.mark.parametrize(
    "text",
    [
        "",
        "CPU(s): many\nMemory size: 1 KiB\n",
        "CPU(s): 4\nMemory size: 12 GiB\n",
        "CPU(s): 0\nMemory size: 0 KiB\n",
    ],
)
def test_bad_nodeinfo_is_a_clear_error(text: str) -> None:
    with pytest.raises(VirshOutputError):
        parse_nodeinfo(text)


@pytest.mark.parametrize(
    "text",
    [
        "  state.state=1\n",
        "Domain: 'x'\n  no equals sign\n",
    ],
)
def test_bad_domstats_is_a_clear_error(text: str) -> None:
    with pytest.raises(VirshOutputError):
        parse_domstats(text)


def test_unknown_state_code_is_a_clear_error() -> None:
    [stats] = parse_domstats("Domain: 'x'\n  state.state=42\n")
    with pytest.raises(VirshOutputError, match="unknown state 42"):
        _ = stats.state


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_parsers_never_crash(text: str) -> None:
    """Any text: a result or VirshOutputError, nothing else."""
    for parse in (parse_nodeinfo, parse_domstats, parse_dominfo, parse_jobinfo, parse_names):
        try:
            result = parse(text)
        except VirshOutputError:
            continue
        if parse is parse_domstats:
            for stats in result:  # type: ignore[union-attr]
                with contextlib.suppress(VirshOutputError):
                    _ = stats.state
        elif parse is parse_jobinfo:
            result.progress()  # type: ignore[union-attr]


field_key = st.from_regex(r"[a-z][a-z0-9_.]{0,20}", fullmatch=True)
field_value = st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs")), max_size=20)
domain_name = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=30
).filter(lambda s: s.strip() == s)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            domain_name, st.integers(0, 7), st.dictionaries(field_key, field_value, max_size=8)
        ),
        max_size=5,
    )
)
def test_domstats_round_trip(domains: list[tuple[str, int, dict[str, str]]]) -> None:
    """What virsh would print for these domains parses back to the same fields."""
    text = ""
    for name, state, fields in domains:
        fields = {**fields, "state.state": str(state)}
        text += f"Domain: '{name}'\n" + "".join(f"  {k}={v}\n" for k, v in fields.items()) + "\n"
    parsed = parse_domstats(text)
    assert [s.name for s in parsed] == [d[0] for d in domains]
    for stats, (_, state, fields) in zip(parsed, domains, strict=True):
        assert stats.fields == {
            k: v.rstrip() for k, v in {**fields, "state.state": str(state)}.items()
        }
        assert stats.state in VmState


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.from_regex(r"[a-z_]{1,20}", fullmatch=True), st.integers(0, 2**63), max_size=12
    ),
    st.integers(0, 5),
)
def test_jobinfo_round_trip(fields: dict[str, int], job_type: int) -> None:
    text = f"Job type: {job_type}\n\n" + "".join(f"{k}: {v}\n" for k, v in fields.items())
    info = parse_jobinfo(text)
    assert info.job_type == job_type and info.fields == {k: str(v) for k, v in fields.items()}
    progress = info.progress()
    assert progress.data_processed == fields.get("data_processed", 0)


# --- verbatim from real libvirt 9.0 hosts (../shared/lab/virsh-misc.txt) -------------------

REAL_NODEMEMSTATS = """total  :             24683656 KiB
free   :             23751464 KiB
buffers:                 6968 KiB
cached :               461084 KiB
"""
REAL_DOMIFLIST = """ Interface   Type     Source   Model    MAC
-----------------------------------------------------------
 vnet5       bridge   br0      virtio   52:54:00:86:ba:af
"""


def test_nodememstats_gives_the_machines_memory() -> None:
    from vdctui.drivers.ssh.parsers import parse_nodememstats

    assert parse_nodememstats(REAL_NODEMEMSTATS) == 24683656 // 1024
    with pytest.raises(VirshOutputError):
        parse_nodememstats("free   :  12 KiB\n")


def test_domiflist_with_and_without_its_header() -> None:
    from vdctui.drivers.ssh.parsers import parse_domiflist
    from vdctui.model import Nic

    nic = Nic("vnet5", "bridge", "br0", "virtio", "52:54:00:86:ba:af")
    assert parse_domiflist(REAL_DOMIFLIST) == (nic,)
    assert parse_domiflist(REAL_DOMIFLIST.split("\n", 2)[2]) == (nic,)
    assert parse_domiflist("") == ()
    with pytest.raises(VirshOutputError):
        parse_domiflist(" vnet5 bridge br0\n")


def test_state_reasons_in_virshs_words() -> None:
    from vdctui.drivers.ssh.parsers import state_reason

    assert state_reason(3, 2) == "migrating"
    assert state_reason(3, 11) == "starting up"
    assert state_reason(1, 2) == "migrated"
    assert state_reason(5, 2) == "destroyed"
    assert state_reason(1, 99) == "" and state_reason(None, 1) == ""


# the three ways real `virsh migrate` ended after a `domjobabort` (../shared/lab/NOTES.md)
ABORT_ERRORS = (
    "error: operation aborted: job 'migration out' canceled by client",
    "error: End of file while reading data: : Input/output error",
    "error: internal error: qemu unexpectedly closed the monitor: 2026-11-30T11:51:40"
    ".480842Z qemu-system-x86_64: load of migration failed: Invalid argument",
)


@pytest.mark.parametrize("stderr", ABORT_ERRORS)
def test_every_end_of_an_aborted_migration_is_cancelled(stderr: str) -> None:
    from vdctui.drivers.ssh.migration import outcome_of
    from vdctui.drivers.ssh.pool import Completed
    from vdctui.model import MigrationOutcome

    done = Completed("", stderr + "\n", 1)
    assert outcome_of(done, "", aborted=True)[0] is MigrationOutcome.CANCELLED
    # not aborted by us: only libvirt's own word for a cancel is a cancel
    expected = (
        MigrationOutcome.CANCELLED if "canceled by client" in stderr else (MigrationOutcome.FAILED)
    )
    assert outcome_of(done, "", aborted=False)[0] is expected
