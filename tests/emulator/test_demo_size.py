"""A demo sized by its hosts alone fits on them: the VMs scale with the hosts."""

from __future__ import annotations

import pytest

from emulator import build_demo, demo_vms_for


def test_the_default_demo_is_64_hosts_and_600_vms() -> None:
    fleet = build_demo(seed=0)
    assert (len(fleet.hosts), len(fleet.vms)) == (64, 600)
    assert demo_vms_for(64) == 600


@pytest.mark.parametrize("hosts", [1, 2, 3, 5, 8, 13, 31, 100, 600])
def test_a_demo_sized_by_hosts_alone_fits(hosts: int) -> None:
    fleet = build_demo(seed=0, hosts=hosts)
    assert len(fleet.hosts) == hosts
    assert len(fleet.vms) == demo_vms_for(hosts) > 0


def test_vms_given_are_kept() -> None:
    assert len(build_demo(seed=0, hosts=8, vms=20).vms) == 20
