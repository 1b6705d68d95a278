"""An HAProxy load balancer for the lab, in its own network namespace.

`lab{K}lb` on the lab's bridge (10.77.K.9), with its own OpenSSH sshd (the console
reaches it like a hypervisor) and HAProxy with an admin socket. Its backend `shop` has a
server per lab guest named after the VM. The lab's guests run no OS, so they cannot
answer a health check: the servers have health checks disabled ("no check"), and
HAProxy takes them as up; what is shown here is the console driving HAProxy (drain,
ready, maint) around operations, checked with HAProxy's own `show servers state`.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.lab.hosts import BRIDGE, LAB_ID, NET
from tests.lab.lab import Lab

NETNS = f"lab{LAB_ID or ''}lb"
IP = f"{NET}.9"
SSHD = shutil.which("sshd") or "/usr/sbin/sshd"


@dataclass
class LabAdc:
    home: Path
    sshd: subprocess.Popen[bytes]
    haproxy: subprocess.Popen[bytes]

    @property
    def socket(self) -> Path:
        return self.home / "admin.sock"

    def ask(self, command: str) -> str:
        """A runtime API command from the lab's side (HAProxy's own answer)."""
        done = subprocess.run(
            ["socat", "-t", "5", "stdio", f"UNIX-CONNECT:{self.socket}"],
            input=command + "\n",
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout

    def close(self) -> None:
        for proc in (self.haproxy, self.sshd):
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        subprocess.run(["ip", "netns", "del", NETNS], check=False)


def _sh(*argv: str) -> None:
    subprocess.run(argv, check=True, capture_output=True)


def start_adc(lab: Lab, servers: Sequence[str], home: Path) -> LabAdc:
    """The namespace, sshd and HAProxy (backend `shop`: one server per name in `servers`)."""
    home.mkdir(parents=True, exist_ok=True)
    subprocess.run(["ip", "netns", "del", NETNS], check=False, capture_output=True)
    _sh("ip", "netns", "add", NETNS)
    _sh("ip", "link", "add", f"{NETNS}-v", "type", "veth", "peer", "name", "eth0", "netns", NETNS)
    _sh("ip", "link", "set", f"{NETNS}-v", "master", BRIDGE, "up")
    _sh("ip", "-n", NETNS, "link", "set", "lo", "up")
    _sh("ip", "-n", NETNS, "addr", "add", f"{IP}/24", "dev", "eth0")
    _sh("ip", "-n", NETNS, "link", "set", "eth0", "up")
    key = home / "ssh_host_ed25519_key"
    key.unlink(missing_ok=True)
    _sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key))
    shutil.copy(lab.client_key.with_suffix(".pub"), home / "authorized_keys")
    (home / "sshd_config").write_text(
        f"Port 22\nListenAddress {IP}\nHostKey {key}\nPidFile {home / 'sshd.pid'}\n"
        f"AuthorizedKeysFile {home / 'authorized_keys'}\nPermitRootLogin prohibit-password\n"
        "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n"
        "StrictModes no\nUseDNS no\n"
    )
    lines = "\n".join(f"    server {name} {NET}.{200 + k}:8080" for k, name in enumerate(servers))
    (home / "haproxy.cfg").write_text(
        f"global\n    stats socket {home / 'admin.sock'} mode 600 level admin\n"
        "defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 5s\n"
        f"    timeout server 5s\nfrontend shop\n    bind {IP}:80\n    default_backend shop\n"
        f"backend shop\n    # guests without an OS answer no health check: none is run\n"
        f"{lines}\n"
    )
    (home / "admin.sock").unlink(missing_ok=True)
    Path("/run/sshd").mkdir(exist_ok=True)
    sshd = subprocess.Popen(
        ["ip", "netns", "exec", NETNS, SSHD, "-D", "-e", "-f", str(home / "sshd_config")],
        stderr=subprocess.DEVNULL,
    )
    haproxy = subprocess.Popen(
        ["ip", "netns", "exec", NETNS, "haproxy", "-f", str(home / "haproxy.cfg"), "-db"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    adc = LabAdc(home, sshd, haproxy)
    deadline = time.monotonic() + 30
    while not (adc.socket.exists() and _answers_ssh()):
        if time.monotonic() > deadline or haproxy.poll() is not None or sshd.poll() is not None:
            adc.close()
            raise RuntimeError("the lab's HAProxy namespace did not come up")
        time.sleep(0.1)
    return adc


def _answers_ssh() -> bool:
    done = subprocess.run(
        ["ip", "netns", "exec", NETNS, "bash", "-c", f"exec 3<>/dev/tcp/{IP}/22"],
        capture_output=True,
        check=False,
    )
    return done.returncode == 0


def known_hosts_line(home: Path) -> str:
    key = " ".join((home / "ssh_host_ed25519_key.pub").read_text().split()[:2])
    return f"{IP} {key}\n"


def adc_inventory(lab: Lab, lab_inventory: Path, adc: LabAdc, path: Path) -> Path:
    """The lab's inventory plus its [[adc]], with a known_hosts that has the ADC's key."""
    known = path.with_name("known_hosts")
    known.write_text(lab.known_hosts.read_text() + known_hosts_line(adc.home))
    text = lab_inventory.read_text().replace(
        f'known_hosts = "{lab.known_hosts}"', f'known_hosts = "{known}"'
    )
    text += f"""
[[adc]]
name = "lab-lb"
address = "root@{IP}"
socket = "{adc.socket}"
"""
    path.write_text(text)
    return path
