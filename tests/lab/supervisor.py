"""One lab host's supervisor: runs inside the host's namespaces and keeps its daemons.

Started by `tests.lab.hosts.start_host` as
`ip netns exec labhN unshare --mount --uts [--cgroup] --propagation private --fork
python3 supervisor.py N STATE_DIR CGROUPS`, so it already has the host's network
namespace (and a /sys remounted for it) and fresh mount/UTS/cgroup namespaces.
It sets the hostname, remounts the cgroup hierarchies (their root is now the
host's own cgroup), bind-mounts the host's private directories, then runs
virtlogd, libvirtd and sshd in the foreground, recording their PIDs. SIGTERM
stops them (in reverse order) and ends the supervisor. Standard library only.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

CG_ROOT = Path("/sys/fs/cgroup")
PATH = "/usr/sbin:/usr/bin:/sbin:/bin"
DAEMON_ENV = {"PATH": PATH, "HOME": "/root", "LANG": "C.UTF-8"}


def run(*args: str) -> None:
    subprocess.run(args, check=True)


def mount_cgroups(controllers: list[str]) -> None:
    """The host's cgroup hierarchies, rooted at its own cgroup (via the cgroup namespace).

    The daemons then move to a `daemons` child, so that the namespace root keeps no
    process of its own (cgroup v2 lets only an empty cgroup hand controllers down).
    """
    if controllers == ["cgroup2"]:
        run("mount", "-t", "cgroup2", "-o", "nosuid,nodev,noexec", "cgroup2", str(CG_ROOT))
        leaves = [CG_ROOT / "daemons"]
    else:
        run("mount", "-t", "tmpfs", "-o", "mode=755,nosuid,nodev,noexec", "cgroup", str(CG_ROOT))
        leaves = []
        for c in controllers:
            path = CG_ROOT / c
            path.mkdir(parents=True, exist_ok=True)
            if c == "unified":
                run("mount", "-t", "cgroup2", "-o", "nosuid,nodev,noexec", "cgroup2", str(path))
            elif c == "systemd":
                opts = "nosuid,nodev,noexec,none,name=systemd"
                run("mount", "-t", "cgroup", "-o", opts, "cgroup", str(path))
            else:
                run("mount", "-t", "cgroup", "-o", f"nosuid,nodev,noexec,{c}", "cgroup", str(path))
            leaves.append(path / "daemons")
    for leaf in leaves:
        leaf.mkdir(exist_ok=True)
        if leaf.parent.name == "cpuset":
            for f in ("cpuset.cpus", "cpuset.mems"):
                (leaf / f).write_text((leaf.parent / f).read_text())
    if controllers == ["cgroup2"]:
        # the daemons first leave the root, then the root may hand its controllers down
        (leaves[0] / "cgroup.procs").write_text(str(os.getpid()))
        wanted = (CG_ROOT / "cgroup.controllers").read_text().split()
        (CG_ROOT / "cgroup.subtree_control").write_text(" ".join(f"+{c}" for c in wanted))
    else:
        for leaf in leaves:
            (leaf / "cgroup.procs").write_text(str(os.getpid()))


def bind(source: Path, target: str) -> None:
    Path(target).mkdir(parents=True, exist_ok=True)
    run("mount", "--bind", str(source), target)


def main() -> None:
    stopping = False

    def stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    number, state = int(sys.argv[1]), Path(sys.argv[2])
    controllers = [c for c in sys.argv[3].split(",") if c] if len(sys.argv) > 3 else []
    home = state / f"h{number}"
    pids = home / "pids"
    (pids / "sup").write_text(str(os.getpid()))
    socket.sethostname(f"labh{number}")
    run("mount", "--make-rprivate", "/")
    if controllers:
        mount_cgroups(controllers)
    # private per-host directories (/var/run is /run on Debian)
    bind(home / "run", "/run")
    for d in ("libvirt", "sshd", "lock"):
        Path("/run", d).mkdir(exist_ok=True)
    Path("/run/sshd").chmod(0o755)
    bind(home / "etc", "/etc/libvirt")
    bind(home / "lib", "/var/lib/libvirt")
    bind(home / "log", "/var/log/libvirt")
    bind(home / "cache", "/var/cache/libvirt")
    bind(home / "root", "/root")
    run("mount", "--bind", str(state / "hosts"), "/etc/hosts")
    run("mount", "--bind", str(home / "hostname"), "/etc/hostname")
    run("ip", "link", "set", "lo", "up")

    daemons = {
        "virtlogd": ["virtlogd"],
        "libvirtd": ["libvirtd"],
        "sshd": ["/usr/sbin/sshd", "-D", "-f", str(home / "sshd_config"), "-E",
                 str(home / "sshd.log")],
    }  # fmt: skip
    running: dict[str, subprocess.Popen[bytes]] = {}

    def start(name: str) -> None:
        out = open(home / f"{name}.out", "ab")  # noqa: SIM115 - the daemon keeps it
        proc = subprocess.Popen(
            daemons[name], env=DAEMON_ENV, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
            cwd="/",
        )  # fmt: skip
        (pids / name).write_text(str(proc.pid))
        running[name] = proc
        if name == "virtlogd":
            for _ in range(100):
                if Path("/run/libvirt/virtlogd-sock").exists():
                    break
                time.sleep(0.05)

    def revive_dead() -> None:
        """SIGUSR1: start again the daemons that died (a lab host brought back)."""
        for name in daemons:
            if running[name].poll() is not None:
                start(name)

    revive = False

    def ask_revive(_signum: int, _frame: object) -> None:
        nonlocal revive
        revive = True

    signal.signal(signal.SIGUSR1, ask_revive)
    for name in daemons:
        start(name)
    while not stopping:
        time.sleep(0.2)
        if revive:
            revive = False
            revive_dead()
    children = list(running.values())
    for proc in reversed(children):
        if proc.poll() is None:
            proc.terminate()
    deadline = time.monotonic() + 10
    for proc in reversed(children):
        try:
            proc.wait(max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


if __name__ == "__main__":
    main()
