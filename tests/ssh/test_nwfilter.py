"""The nwfilter XML a security group becomes (no host needed)."""

from __future__ import annotations

import pytest

from vdctui.drivers.base import InvalidOperation
from vdctui.drivers.ssh.nwfilter import group_filter, interfaces_with_filter, vm_filter
from vdctui.model import FirewallRule, VmFirewall

WEB = FirewallRule(1, "web", "ingress", "tcp", 443, 443, "0.0.0.0/0")
OUT = FirewallRule(2, "web", "egress", "udp", 53, None, "10.0.0.0/8")


def test_a_group_is_a_filter_of_accept_rules() -> None:
    xml = group_filter("web", [WEB, OUT])
    assert xml.startswith('<filter name="vdctui-sg-web" chain="root">')
    assert 'direction="in"' in xml and 'srcipaddr="0.0.0.0" srcipmask="0"' in xml
    assert 'dstportstart="443" dstportend="443"' in xml
    assert 'direction="out"' in xml and 'dstipaddr="10.0.0.0" dstipmask="8"' in xml


def test_a_vms_filter_refers_to_the_base_and_its_groups_then_drops() -> None:
    xml = vm_filter(VmFirewall("vm-1", ("web",), (WEB,)), base=True)
    assert '<filterref filter="clean-traffic" />' in xml
    assert '<filterref filter="vdctui-sg-web" />' in xml
    assert xml.index("vdctui-sg-web") < xml.index('action="drop"')
    assert "clean-traffic" not in vm_filter(VmFirewall("vm-1", ("web",), (WEB,)), base=False)


def test_remote_groups_and_unsafe_names_are_refused() -> None:
    remote = FirewallRule(3, "db", "ingress", "tcp", 5432, 5432, None, ("web-1",))
    with pytest.raises(InvalidOperation, match="remote group"):
        group_filter("db", [remote])
    with pytest.raises(InvalidOperation, match="cannot name an nwfilter"):
        group_filter("we b'", [WEB])


def test_the_interface_gets_the_reference_and_loses_its_live_only_parts() -> None:
    domain = """<domain><devices><interface type='bridge'><mac address='52:54:00:00:00:01'/>
    <source bridge='br0'/><target dev='vnet0'/><model type='virtio'/><alias name='net0'/>
    </interface></devices></domain>"""
    [interface] = interfaces_with_filter(domain, "vdctui-vm-a")
    assert '<filterref filter="vdctui-vm-a" />' in interface
    assert "vnet0" not in interface and "alias" not in interface
    assert "filterref" not in interfaces_with_filter(domain, None)[0]
