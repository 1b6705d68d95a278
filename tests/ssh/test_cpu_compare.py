"""`virsh hypervisor-cpu-compare --error` as the pre-flight's CPU check reads it (the
outputs verbatim from the lab's libvirt 9.0), and the model-based check it replaces."""

from __future__ import annotations

from vdctui.drivers.ssh.config import cpu_comparison
from vdctui.model import CpuComparison, Host, HostState
from vdctui.ops import preflight as pf

SUPERSET = (
    "The CPU provided by hypervisor on the host is a superset of CPU described in /dev/stdin\n"
)
IDENTICAL = (
    "CPU described in /dev/stdin is identical to the CPU provided by hypervisor on the host\n"
)
INCOMPATIBLE = (
    "error: Failed to compare hypervisor CPU with /dev/stdin\n"
    "error: the CPU is incompatible with host CPU: Host CPU does not provide required "
    "features: pni, amx-tile, svm\n"
)


def test_what_libvirt_said() -> None:
    assert cpu_comparison(0, SUPERSET, "") == CpuComparison(True, "superset")
    assert cpu_comparison(0, IDENTICAL, "") == CpuComparison(True, "identical")
    failed = cpu_comparison(1, "", INCOMPATIBLE)
    assert failed is not None and not failed.compatible
    assert failed.detail.endswith("does not provide required features: pni, amx-tile, svm")
    # could not compare (an unknown command, a CPU mode libvirt does not compare): None
    assert cpu_comparison(1, "", "error: unknown command: 'hypervisor-cpu-compare'") is None
    hostile = cpu_comparison(1, "", "error: incompatible \x1b[2J" + "x" * 1000)
    assert hostile is not None and "\x1b" not in hostile.detail and len(hostile.detail) < 400


def _host(name: str, model: str = "m1") -> Host:
    return Host(name, HostState.UP, "r", "room", "s", model, 64, 32, 2000, 65536, 25.0)


def test_libvirt_wins_over_the_models() -> None:
    a, b = _host("a"), _host("b", model="m2")
    assert pf.cpu_check(a, b).verdict is pf.Verdict.WARN  # models differ: no comparison
    passed = pf.cpu_check(a, b, CpuComparison(True, "superset"), "web1")
    assert passed.verdict is pf.Verdict.PASS and "superset" in passed.reason
    failed = pf.cpu_check(a, _host("b"), CpuComparison(False, "no avx2"), "web1")
    assert failed.verdict is pf.Verdict.FAIL and failed.reason == "b cannot run web1's CPU: no avx2"
