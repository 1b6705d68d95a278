"""The inventory file: a good one loads; a bad one names the line and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from vdctui.drivers.ssh import InventoryError, load_inventory
from vdctui.drivers.ssh.inventory import Address, parse_address

GOOD = """known_hosts = "keys/known_hosts"
identity = "~/.ssh/id_ed25519"

[[hosts]]
name = "kvm-01"
site = "par1"
room = "hall-a"
rack = "a01"
address = "root@10.0.0.11:2222"
jump = "ops@bastion.example.net"
uri = "qemu:///system"

[[hosts]]
name = "kvm-02"
site = "par1"
room = "hall-a"
rack = "a02"
address = "kvm-02-alias"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "inventory.toml"
    path.write_text(text)
    return path


def test_a_good_inventory(tmp_path: Path) -> None:
    inventory = load_inventory(write(tmp_path, GOOD))
    first, second = inventory.hosts
    assert first.address == Address("10.0.0.11", "root", 2222)
    assert first.jump == Address("bastion.example.net", "ops", None)
    assert second.address == Address("kvm-02-alias") and second.jump is None
    assert inventory.known_hosts == tmp_path / "keys" / "known_hosts"
    assert (first.line, second.line) == (4, 13)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (('rack = "a02"\n', ""), r"line 13: host 'kvm-02' has no 'rack'"),
        (('address = "kvm-02-alias"', 'address = "kvm-02:99999"'), r"line 18: address .*port"),
        (('uri = "qemu:///system"', "uri = 7"), r"line 11: 'uri' must be a non-empty string"),
        (('jump = "ops@bastion.example.net"', 'jupm = "x"'), r"line 10: unknown host key 'jupm'"),
        (('name = "kvm-02"', 'name = "kvm-01"'), r"line 14: host 'kvm-01' is listed twice"),
        (("identity = ", "identiti = "), r"line 2: unknown key 'identiti'"),
        (('site = "par1"\nroom', 'site = "par1\nroom'), r"line 6.*not valid TOML"),
    ],
)
def test_a_bad_inventory_names_the_line_and_key(
    tmp_path: Path, change: tuple[str, str], expected: str
) -> None:
    old, new = change
    assert old in GOOD
    with pytest.raises(InventoryError, match=expected):
        load_inventory(write(tmp_path, GOOD.replace(old, new, 1)))


def test_no_hosts_and_no_file(tmp_path: Path) -> None:
    with pytest.raises(InventoryError, match="no \\[\\[hosts\\]\\]"):
        load_inventory(write(tmp_path, "known_hosts = 'x'\n"))
    with pytest.raises(InventoryError, match="Cannot read"):
        load_inventory(tmp_path / "missing.toml")


@pytest.mark.parametrize("text", ["@host", "user@", "host:0", "[::1", "a b"])
def test_bad_addresses(text: str) -> None:
    with pytest.raises(ValueError):
        parse_address(text)


def test_ipv6_address() -> None:
    assert parse_address("root@[::1]:22") == Address("::1", "root", 22)


def test_migration_is_chosen_per_host(tmp_path: Path) -> None:
    text = GOOD.replace('uri = "qemu:///system"', 'uri = "qemu:///system"\nmigration = "direct"')
    inventory = load_inventory(write(tmp_path, text))
    assert [h.migration for h in inventory.hosts] == ["direct", "p2p"]
    bad = GOOD.replace('uri = "qemu:///system"', 'migration = "tunnelled"')
    with pytest.raises(InventoryError, match=r"line 11: migration 'tunnelled' is not one of"):
        load_inventory(write(tmp_path, bad))
