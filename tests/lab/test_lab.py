"""The lab itself: independent hosts, each with its own name, identity, files and daemons."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.lab.hosts import LAB_ID, host_ip, host_uuid
from tests.lab.lab import Lab

ROOT = Path(__file__).resolve().parents[2]


def test_each_host_is_its_own_machine(lab: Lab) -> None:
    seen_uuids, seen_pids = set(), set()
    for host in lab.hosts():
        n = host.number
        assert lab.run(n, "hostname").stdout.strip() == f"labh{n}"
        capabilities = lab.virsh(n, "capabilities").stdout
        assert f"<uuid>{host_uuid(n)}</uuid>" in capabilities
        seen_uuids.add(host_uuid(n))
        # a private /run: each host's libvirtd has its own pidfile there
        seen_pids.add(lab.run(n, "cat", "/run/libvirtd.pid").stdout.strip())
        addresses = lab.run(n, "ip", "-4", "-br", "addr").stdout
        assert f"{host_ip(n)}/24" in addresses
        assert all(word.startswith(("127.", "10.")) for word in addresses.split() if "/" in word), (
            addresses
        )
        # /etc/libvirt and /var/lib/libvirt are the host's own
        conf = lab.run(n, "cat", "/etc/libvirt/libvirtd.conf").stdout
        assert host_uuid(n) in conf
        assert lab.run(n, "test", "-d", "/var/lib/libvirt").returncode == 0
    assert len(seen_uuids) == len(seen_pids) == len(lab.hosts()) == 3


def test_root_logs_in_by_key_only(lab: Lab) -> None:
    done = subprocess.run(lab.ssh_command(1, "hostname"), capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip() == "labh1"
    config = (lab.host(1).home / "sshd_config").read_text()
    assert "PasswordAuthentication no" in config
    assert "PermitRootLogin prohibit-password" in config
    wrong_key = subprocess.run(
        [
            "ssh",
            "-F",
            "/dev/null",
            "-o",
            "BatchMode=yes",
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "IdentitiesOnly=yes",
            "-i",
            "/dev/null",
            f"root@{host_ip(1)}",
            "true",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert wrong_key.returncode != 0


def test_status_and_virsh_from_the_command_line(lab: Lab) -> None:
    env = {
        "PYTHONPATH": str(ROOT),
        "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
        "VDCTUI_LAB_ID": str(LAB_ID),
    }
    status = subprocess.run(
        [sys.executable, "-m", "tests.lab", "status"], capture_output=True, text=True, env=env
    )
    assert status.returncode == 0, status.stderr
    assert f"labh3 {host_ip(3)}: sup=" in status.stdout and "DEAD" not in status.stdout
    assert f"guests use {lab.accel.upper()}" in status.stdout
    version = subprocess.run(
        [sys.executable, "-m", "tests.lab", "virsh", "2", "hostname"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert version.stdout.strip() == "labh2.lab"  # its /etc/hosts names it in the lab
