"""A lab of real libvirt + QEMU hypervisor hosts on one Linux machine (root).

Host N (1..9) is `labhN`: a network namespace whose `eth0` is 10.77.0.(10+N)/24
on a veth joined to the bridge `labbr0` (10.77.0.1/24) in the root namespace,
(lab 0; `VDCTUI_LAB_ID=K` runs lab K beside it: namespaces `labKhN`, 10.77.K.x,
bridge `labbrK`, state `/tmp/vdctui-labK`)
plus an unconnected bridge `br0` for guest NICs; inside it, fresh mount, UTS
and cgroup namespaces where a supervisor (`supervisor.py`) sets the hostname,
bind-mounts the host's private `/run`, `/etc/libvirt`, `/var/lib/libvirt`,
`/var/log/libvirt`, `/var/cache/libvirt` and `/root`, and runs `virtlogd`,
`libvirtd` (own `host_uuid`) and `sshd` (root by key only). Everything the lab
makes lives under its state directory, is recorded there (PIDs, cgroups,
what existed before), and `down` removes exactly that.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path


def _lab_id() -> int:
    """Which lab of this machine (0-9, `$VDCTUI_LAB_ID`): several labs can run side by side."""
    raw = os.environ.get("VDCTUI_LAB_ID", "0")
    if not (raw.isdigit() and 0 <= int(raw) <= 9):
        raise SystemExit(f"VDCTUI_LAB_ID must be a digit 0-9, not {raw!r}.")
    return int(raw)


LAB_ID = _lab_id()
_SUFFIX = str(LAB_ID) if LAB_ID else ""
STATE = Path(os.environ.get("VDCTUI_LAB_DIR", f"/tmp/vdctui-lab{_SUFFIX}"))
CAPCACHE = Path(os.environ.get("VDCTUI_LAB_CAPCACHE", f"/var/tmp/vdctui-lab{_SUFFIX}-capcache"))
NET = f"10.77.{LAB_ID}"
BRIDGE = f"labbr{LAB_ID}"
NETNS_PREFIX = f"lab{_SUFFIX}h"
CG_ROOT = Path("/sys/fs/cgroup")
SUPERVISOR = Path(__file__).with_name("supervisor.py")
DAEMONS = ("sshd", "libvirtd", "virtlogd")
PACKAGES = (
    "qemu-system-x86 libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients openssh-server"
)
KVM_GET_API_VERSION = 0xAE00


class LabError(Exception):
    """The lab could not do what it was asked; one sentence."""


def log(message: str) -> None:
    print(f"[lab {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def host_name(n: int) -> str:
    return f"labh{n}"


def netns_name(n: int) -> str:
    """The network namespace of host N: unique on the machine (the lab id is in it)."""
    return f"{NETNS_PREFIX}{n}"


def host_ip(n: int) -> str:
    return f"{NET}.{10 + n}"


def host_uuid(n: int) -> str:
    return f"c0ffee{n:02x}-1ab0-4000-8000-{n:012d}"


def alive(pid: int | None) -> bool:
    """A process exists and is not a zombie."""
    if not pid:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def kvm_usable() -> bool:
    """Can this process open /dev/kvm and talk to it (else the lab's guests use TCG)?"""
    if os.environ.get("VDCTUI_LAB_ACCEL") == "tcg":
        return False
    try:
        fd = os.open("/dev/kvm", os.O_RDWR | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        return fcntl.ioctl(fd, KVM_GET_API_VERSION) == 12
    except OSError:
        return False
    finally:
        os.close(fd)


def _sh(*args: str, check: bool = True, quiet: bool = False) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args,
        check=check,
        text=True,
        stdout=subprocess.PIPE if quiet else None,
        stderr=subprocess.PIPE if quiet else None,
    )


def missing_programs() -> list[str]:
    needed = ["ip", "unshare", "nsenter", "virsh", "virtlogd", "libvirtd", "ssh", "ssh-keygen"]
    found = [p for p in needed if shutil.which(p, path="/usr/sbin:/usr/bin:/sbin:/bin") is None]
    if not Path("/usr/sbin/sshd").exists():
        found.append("sshd")
    if not Path("/usr/bin/qemu-system-x86_64").exists():
        found.append("qemu-system-x86_64")
    return found


@dataclass(frozen=True)
class LabHost:
    number: int
    home: Path

    @property
    def name(self) -> str:
        return host_name(self.number)

    @property
    def netns(self) -> str:
        return netns_name(self.number)

    @property
    def ip(self) -> str:
        return host_ip(self.number)

    def pid(self, what: str) -> int | None:
        try:
            return int((self.home / "pids" / what).read_text())
        except (OSError, ValueError):
            return None

    @property
    def cgroups(self) -> list[Path]:
        """The cgroup directories made for this host (recorded at `up`)."""
        try:
            return [Path(p) for p in (self.home / "cgroups").read_text().split()]
        except OSError:
            return []

    def qemu_pids(self) -> list[int]:
        """QEMU processes of this host, from libvirt's own pidfiles."""
        found = []
        for f in (self.home / "run" / "libvirt" / "qemu").glob("*.pid"):
            with contextlib.suppress(OSError, ValueError):
                found.append(int(f.read_text().strip()))
        return found

    def processes(self, *words: str) -> list[int]:
        """This host's processes (by its cgroups) whose command line has all these words."""
        found = []
        for pid in self.cgroup_pids():
            try:
                argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            if all(word in argv.split("\0") for word in words):
                found.append(pid)
        return found

    def processes_named(self, comm: str) -> list[int]:
        """This host's processes (by its cgroups) whose name (/proc/PID/comm) is `comm`."""
        found = []
        for pid in self.cgroup_pids():
            with contextlib.suppress(OSError):
                if Path(f"/proc/{pid}/comm").read_text().strip() == comm:
                    found.append(pid)
        return found

    def cgroup_pids(self) -> list[int]:
        found: set[int] = set()
        for cg in self.cgroups:
            for procs in cg.glob("**/cgroup.procs") if cg.exists() else []:
                with contextlib.suppress(OSError, ValueError):
                    found.update(int(p) for p in procs.read_text().split())
        return sorted(found)


def _tail(path: Path, lines: int = 5) -> str:
    try:
        return " | ".join(path.read_text(errors="replace").strip().splitlines()[-lines:])
    except OSError:
        return "(no output)"
