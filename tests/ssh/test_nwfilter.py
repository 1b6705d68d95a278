"""The nwfilter XML a security group becomes (no host needed)."""

from __future__ import annotations

import pytest

from vdctui.drivers.base import InvalidOperation
from vdctui.drivers.ssh.addresses import domifaddr_addresses, filterref_addresses
from vdctui.drivers.ssh.counters import add_counts
from vdctui.drivers.ssh.nwfilter import group_filter, interfaces_with_filter, vm_filter, with_uuid
from vdctui.model import FirewallRule, FlowCounts, VmFirewall

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


def test_a_remote_group_is_one_accept_rule_per_member_address() -> None:
    remote = FirewallRule(3, "db", "ingress", "tcp", 5432, 5432, None, ("web-1", "web-2"))
    addresses = {"web-1": ("10.88.0.2",), "web-2": ("10.88.0.3", "10.88.0.2")}
    xml = group_filter("db", [remote], addresses)
    assert xml.count("<rule ") == 2  # 10.88.0.2 once
    assert 'srcipaddr="10.88.0.2" srcipmask="32"' in xml
    assert 'srcipaddr="10.88.0.3" srcipmask="32"' in xml
    assert xml.count('dstportstart="5432"') == 2
    empty = FirewallRule(4, "db", "ingress", "tcp", 22, 22, None, ())
    assert "<rule " not in group_filter("db", [empty])  # no members: lets nothing in


def test_unknown_member_addresses_and_unsafe_names_are_refused() -> None:
    remote = FirewallRule(3, "db", "ingress", "tcp", 5432, 5432, None, ("web-1",))
    with pytest.raises(InvalidOperation, match="names VM web-1, whose address is not known"):
        group_filter("db", [remote])
    with pytest.raises(InvalidOperation, match="cannot name an nwfilter"):
        group_filter("we b'", [WEB])


def test_addresses_from_the_filterref_ip_and_from_domifaddr() -> None:
    domain = """<domain><devices><interface type='bridge'>
    <filterref filter='clean-traffic'><parameter name='IP' value='10.88.0.7'/>
    <parameter name='CTRL_IP_LEARNING' value='none'/><parameter name='IP' value='bad'/>
    </filterref></interface></devices></domain>"""
    assert filterref_addresses(domain) == ["10.88.0.7"]
    table = """ Name       MAC address          Protocol     Address
-------------------------------------------------------------------------------
 vnet0      52:54:00:6b:2a:11    ipv4         192.168.122.45/24
 vnet0      52:54:00:6b:2a:11    ipv6         fe80::1/64
 vnet1      52:54:00:6b:2a:12    ipv4         x.y/24"""
    assert domifaddr_addresses(table) == ["192.168.122.45"]


def test_the_interface_gets_the_reference_and_loses_its_live_only_parts() -> None:
    domain = """<domain><devices><interface type='bridge'><mac address='52:54:00:00:00:01'/>
    <source bridge='br0'/><target dev='vnet0'/><model type='virtio'/><alias name='net0'/>
    </interface></devices></domain>"""
    [interface] = interfaces_with_filter(domain, "vdctui-vm-a")
    assert '<filterref filter="vdctui-vm-a" />' in interface
    assert "vnet0" not in interface and "alias" not in interface
    assert "filterref" not in interfaces_with_filter(domain, None)[0]
    stated = domain.replace(
        "<model",
        "<filterref filter='old'><parameter name='IP' value='10.0.0.5'/></filterref><model",
    )
    [kept] = interfaces_with_filter(stated, "vdctui-vm-a")
    assert 'filterref filter="vdctui-vm-a"><parameter name="IP" value="10.0.0.5" />' in kept
    assert "old" not in kept


def test_a_filter_defined_again_keeps_the_uuid_the_host_has() -> None:
    xml = group_filter("web", [WEB])
    uuid = "f043ef34-5b1b-4278-88c2-aae7947984c2"
    again = with_uuid(xml, {"vdctui-sg-web": uuid, "other": "x"})
    assert again.startswith(f'<filter name="vdctui-sg-web" chain="root"><uuid>{uuid}</uuid><rule ')
    assert with_uuid(xml, {"other": uuid}) == xml


def test_each_accept_rule_carries_its_rule_number_for_the_counters() -> None:
    assert 'comment="vdctui-rule-1"' in group_filter("web", [WEB])


def test_counters_of_the_taps_chains_are_counts_per_vm_and_rule() -> None:
    saved = """*filter
[0:0] -A FO-vnet0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
[3:180] -A FO-vnet0 -s 10.88.6.2/32 -p tcp -m tcp --dport 5432 -m conntrack --ctstate NEW \
-m comment --comment vdctui-rule-7 -j ACCEPT
[2:120] -A FO-vnet0 -j DROP
[1:60] -A FI-vnet0 -j DROP
[5:300] -A FO-vnet9 -j DROP
[4:240] -A FO-vnet1 -m comment --comment "vdctui-rule-8" -j ACCEPT
[9:9] -A libvirt-out -m physdev --physdev-out vnet0 --physdev-is-bridged -g FO-vnet0
COMMIT"""
    counts = FlowCounts({}, {}, {})
    saved = saved.replace("\\\n", "")  # one line, as iptables-save prints it
    add_counts(saved, {"vnet0": "db", "vnet1": "web"}, counts)
    assert counts.by_rule == {7: 3, 8: 4}
    assert counts.allowed == {"db": 3, "web": 4}
    assert counts.dropped == {"db": 3}  # vnet9: no VM known, not counted
