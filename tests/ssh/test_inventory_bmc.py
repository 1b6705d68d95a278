"""The inventory's bmc keys: a good BMC loads; every bad key is one line naming its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from vdctui.drivers.ssh import InventoryError, load_inventory

HOST = """[[hosts]]
name = "kvm-01"
site = "par1"
room = "hall-a"
rack = "a01"
address = "root@10.0.0.11"
"""


def inventory(tmp_path: Path, bmc_lines: str) -> Path:
    (tmp_path / "secrets").mkdir(exist_ok=True)
    (tmp_path / "secrets" / "kvm-01.bmc").write_text("pw\n")
    (tmp_path / "ca.pem").write_text("not read at load time\n")
    path = tmp_path / "inventory.toml"
    path.write_text(HOST + bmc_lines)
    return path


def test_a_host_with_a_bmc(tmp_path: Path) -> None:
    path = inventory(
        tmp_path,
        'bmc = "https://10.0.0.21:8443"\nbmc_user = "fence"\n'
        'bmc_password_file = "secrets/kvm-01.bmc"\nbmc_system = "System.Embedded.1"\n'
        'bmc_ca = "ca.pem"\n',
    )
    loaded = load_inventory(path)
    bmc = loaded.hosts[0].bmc
    assert bmc is not None
    assert bmc.url == "https://10.0.0.21:8443"
    assert bmc.user == "fence"
    assert bmc.password_file == tmp_path / "secrets" / "kvm-01.bmc"
    assert bmc.password() == "pw"
    assert bmc.system == "System.Embedded.1"
    assert bmc.ca == tmp_path / "ca.pem"
    assert not bmc.insecure
    assert loaded.warnings == ()


def test_no_bmc_is_none(tmp_path: Path) -> None:
    assert load_inventory(inventory(tmp_path, "")).hosts[0].bmc is None


def test_insecure_is_explicit_and_warned(tmp_path: Path) -> None:
    path = inventory(
        tmp_path,
        'bmc = "https://bmc-01"\nbmc_user = "fence"\n'
        'bmc_password_file = "secrets/kvm-01.bmc"\nbmc_insecure = true\n',
    )
    loaded = load_inventory(path)
    assert loaded.hosts[0].bmc is not None and loaded.hosts[0].bmc.insecure
    assert loaded.warnings == (
        f"{path} line 1: host 'kvm-01' does not verify its BMC's TLS certificate "
        "(bmc_insecure = true).",
    )


GOOD_CREDS = 'bmc_user = "fence"\nbmc_password_file = "secrets/kvm-01.bmc"\n'


@pytest.mark.parametrize(
    ("lines", "line", "message"),
    [
        (
            'bmc = "https://b"\n' + GOOD_CREDS + 'bmc_password = "hunter2"\n',
            10,
            "'bmc_password': a BMC password is never written in the inventory; put it in a file "
            "and name that file with bmc_password_file.",
        ),
        ('bmc = "http://b"\n' + GOOD_CREDS, 7, "it must start with https://"),
        ('bmc = "https://b/redfish/v1"\n' + GOOD_CREDS, 7, "give only https://host[:port]"),
        ('bmc = "https://u:p@b"\n' + GOOD_CREDS, 7, "credentials belong in bmc_user"),
        ('bmc = "https://b:99999"\n' + GOOD_CREDS, 7, "the port is not a number"),
        ('bmc = "https://b"\nbmc_password_file = "secrets/kvm-01.bmc"\n', 7, "needs bmc_user"),
        ('bmc = "https://b"\nbmc_user = "fence"\n', 7, "needs bmc_password_file"),
        (GOOD_CREDS, 7, 'needs a bmc = "https://..." key'),
        ('bmc = "https://b"\n' + GOOD_CREDS + "bmc_insecure = 1\n", 10, "true or false"),
        ('bmc = "https://b"\n' + GOOD_CREDS + 'bmc_system = "a/../b"\n', 10, "system id"),
        ('bmc = "https://b"\n' + GOOD_CREDS + 'bmc_ca = "nope.pem"\n', 10, "is not a file"),
        (
            'bmc = "https://b"\n' + GOOD_CREDS + 'bmc_ca = "ca.pem"\nbmc_insecure = true\n',
            11,
            "contradict",
        ),
        ('bmc = "https://b"\nbmc_user = "fence"\nbmc_password_file = "none"\n', 9, "not a file"),
        ("bmc = 5\n" + GOOD_CREDS, 7, "must be a non-empty string"),
    ],
)
def test_bad_bmc_keys(tmp_path: Path, lines: str, line: int, message: str) -> None:
    path = inventory(tmp_path, lines)
    with pytest.raises(InventoryError) as caught:
        load_inventory(path)
    text = str(caught.value)
    assert text.startswith(f"{path} line {line}: ")
    assert message in text
    assert "\n" not in text
    assert "hunter2" not in text
