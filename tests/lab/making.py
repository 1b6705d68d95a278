"""Making a lab host: its files, keys, cgroups and network namespace (`Lab.up` calls these)."""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

from tests.lab.hosts import BRIDGE, CG_ROOT, LabHost, _sh, host_ip, host_name, host_uuid, log


def system_prerequisites() -> None:
    """What the packaged daemons need and, without systemd, nothing creates."""
    _sh("groupadd", "-f", "-r", "libvirt-qemu")
    if _sh("id", "libvirt-qemu", check=False, quiet=True).returncode != 0:
        _sh("useradd", "-r", "-g", "libvirt-qemu", "libvirt-qemu")
    _sh("groupadd", "-f", "kvm")


def client_files(state: Path, ssh_dir: Path, count: int) -> None:
    """The client key, ssh config and /etc/hosts shared by the lab."""
    client_key = ssh_dir / "id_ed25519"
    ssh_dir.mkdir(mode=0o700, parents=True)
    _sh(
        "ssh-keygen",
        "-q",
        "-t",
        "ed25519",
        "-N",
        "",
        "-C",
        "lab-client",
        "-f",
        str(client_key),
    )
    lines = ["127.0.0.1 localhost", "::1 localhost ip6-localhost ip6-loopback"]
    lines += [f"{host_ip(n)} {host_name(n)}.lab {host_name(n)}" for n in range(1, count + 1)]
    (state / "hosts").write_text("\n".join(lines) + "\n")
    (ssh_dir / "config").write_text(
        "Host *\n  User root\n"
        f"  IdentityFile {client_key}\n  IdentitiesOnly yes\n"
        f"  UserKnownHostsFile {ssh_dir / 'known_hosts'}\n  StrictHostKeyChecking yes\n"
        "  BatchMode yes\n  ConnectTimeout 10\n  LogLevel ERROR\n"
    )


def cgroup_parents() -> tuple[list[str], list[Path]]:
    """(how the supervisor mounts them, the hierarchies to make a host cgroup in)."""
    if os.environ.get("VDCTUI_LAB_CGROUPS") == "0":
        return [], []
    if (CG_ROOT / "cgroup.controllers").exists():  # cgroup v2 only
        return ["cgroup2"], [CG_ROOT]
    names = sorted(
        d.name for d in CG_ROOT.iterdir() if d.is_dir() and not d.is_symlink() and d.is_mount()
    )
    return names, [CG_ROOT / name for name in names]


def make_cgroups(host: LabHost) -> list[str]:
    controllers, parents = cgroup_parents()
    made: list[Path] = []
    try:
        for parent in parents:
            path = parent / f"lab-{host.netns}"
            path.mkdir()
            made.append(path)
            if parent.name == "cpuset":
                for f in ("cpuset.cpus", "cpuset.mems"):
                    (path / f).write_text((parent / f).read_text())
    except OSError as exc:
        log(f"no cgroups for {host.name} ({exc}): libvirt runs without them")
        for path in reversed(made):
            with contextlib.suppress(OSError):
                path.rmdir()
        made, controllers = [], []
    (host.home / "cgroups").write_text("\n".join(str(p) for p in made))
    return controllers


def make_host(host: LabHost, client_key: Path) -> None:
    """Host files (configs, keys, its ~/.ssh), cgroups and network namespace."""
    n = host.number
    home = host.home
    for d in ("pids", "run", "etc/qemu/autostart", "lib", "log", "cache", "root/.ssh"):
        (home / d).mkdir(parents=True, exist_ok=True)
    (home / "root").chmod(0o700)
    (home / "root" / ".ssh").chmod(0o700)
    (home / "hostname").write_text(host.name + "\n")
    controllers = make_cgroups(host)
    (home / "controllers").write_text(",".join(controllers))
    (home / "etc" / "libvirtd.conf").write_text(
        f'host_uuid = "{host_uuid(n)}"\n'
        'unix_sock_group = "root"\nunix_sock_ro_perms = "0777"\n'
        'unix_sock_rw_perms = "0770"\nauth_unix_ro = "none"\nauth_unix_rw = "none"\n'
        'log_outputs = "3:file:/var/log/libvirt/libvirtd.log"\n'
    )
    (home / "etc" / "virtlogd.conf").write_text("")
    qemu_conf = [
        'user = "root"',
        'group = "root"',
        "dynamic_ownership = 0",
        "remember_owner = 0",
        'security_driver = "none"',
        'vnc_listen = "127.0.0.1"',
    ]
    if not controllers:
        qemu_conf.append("cgroup_controllers = [ ]")
    (home / "etc" / "qemu.conf").write_text("\n".join(qemu_conf) + "\n")
    _sh(
        "ssh-keygen",
        "-q",
        "-t",
        "ed25519",
        "-N",
        "",
        "-C",
        host.name,
        "-f",
        str(home / "ssh_host_ed25519_key"),
    )
    (home / "sshd_config").write_text(
        f"Port 22\nListenAddress {host.ip}\nHostKey {home / 'ssh_host_ed25519_key'}\n"
        "PidFile /run/sshd.pid\nPermitRootLogin prohibit-password\n"
        "PubkeyAuthentication yes\nPasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\nUsePAM no\n"
        "AuthorizedKeysFile .ssh/authorized_keys\nStrictModes yes\nUseDNS no\n"
        "MaxStartups 100:30:200\nMaxSessions 100\nSubsystem sftp internal-sftp\n"
    )
    # root's ~/.ssh inside the host: the source libvirtd of a p2p migration dials out
    dot_ssh = home / "root" / ".ssh"
    shutil.copy(client_key, dot_ssh / "id_ed25519")
    shutil.copy(client_key.with_suffix(".pub"), dot_ssh / "authorized_keys")
    (dot_ssh / "config").write_text(
        "Host *\n  User root\n  BatchMode yes\n  StrictHostKeyChecking yes\n  ConnectTimeout 10\n"
    )
    for f in dot_ssh.iterdir():
        f.chmod(0o600)
    ns = host.netns
    _sh("ip", "netns", "add", ns)
    _sh("ip", "link", "add", f"{ns}-v", "type", "veth", "peer", "name", "eth0", "netns", ns)
    _sh("ip", "link", "set", f"{ns}-v", "master", BRIDGE, "up")
    _sh("ip", "-n", ns, "link", "set", "lo", "up")
    _sh("ip", "-n", ns, "addr", "add", f"{host.ip}/24", "dev", "eth0")
    _sh("ip", "-n", ns, "link", "set", "eth0", "up")
    _sh("ip", "-n", ns, "link", "add", "br0", "type", "bridge")
    _sh("ip", "-n", ns, "link", "set", "br0", "up")


def known_hosts(path: Path, hosts: list[LabHost]) -> None:
    """Every host's key, for the client and for each host's own ~/.ssh (p2p migration)."""
    lines = []
    for host in hosts:
        key = " ".join((host.home / "ssh_host_ed25519_key.pub").read_text().split()[:2])
        lines.append(f"{host.ip},{host.name},{host.name}.lab {key}")
    path.write_text("\n".join(lines) + "\n")
    for host in hosts:
        target = host.home / "root" / ".ssh" / "known_hosts"
        shutil.copy(path, target)
        target.chmod(0o600)
