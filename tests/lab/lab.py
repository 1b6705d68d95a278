"""The lab: `up`, `down` and `status` of N real hypervisor hosts, and commands inside them.

See `tests/lab/hosts.py` for what a lab host is.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.lab import bmc, making
from tests.lab.guests import write_halt_image
from tests.lab.hosts import (
    BRIDGE,
    CAPCACHE,
    DAEMONS,
    NET,
    NETNS_PREFIX,
    PACKAGES,
    STATE,
    SUPERVISOR,
    LabError,
    LabHost,
    _sh,
    _tail,
    alive,
    host_ip,
    host_name,
    host_uuid,
    kvm_usable,
    log,
    missing_programs,
)


class Lab:
    """The lab under a state directory: `up`, `down`, `status`, and commands inside hosts."""

    def __init__(self, state: Path = STATE, capcache: Path | None = CAPCACHE) -> None:
        self.state = state
        self.capcache = capcache
        self._wrappers: list[subprocess.Popen[bytes]] = []

    # --- where things are ------------------------------------------------------------

    @property
    def ssh_dir(self) -> Path:
        return self.state / "ssh"

    @property
    def client_key(self) -> Path:
        return self.ssh_dir / "id_ed25519"

    @property
    def known_hosts(self) -> Path:
        return self.ssh_dir / "known_hosts"

    @property
    def images(self) -> Path:
        return self.state / "img"

    @property
    def accel(self) -> str:
        try:
            return (self.state / "accel").read_text().strip()
        except OSError:
            return "kvm" if kvm_usable() else "tcg"

    def host(self, n: int) -> LabHost:
        return LabHost(n, self.state / f"h{n}")

    def hosts(self) -> list[LabHost]:
        numbers = sorted(
            int(p.name[1:]) for p in self.state.glob("h[0-9]*") if p.name[1:].isdigit()
        )
        return [self.host(n) for n in numbers]

    def is_up(self) -> bool:
        hosts = self.hosts()
        return bool(hosts) and all(alive(h.pid("sup")) for h in hosts)

    # --- commands inside a host ---------------------------------------------------------

    def host_command(self, n: int, argv: list[str], cwd: str = "/") -> list[str]:
        """argv run inside host n (its network, mount, UTS and cgroup namespaces), in
        `cwd` (the host sees this machine's files, but for its private directories)."""
        host = self.host(n)
        sup = host.pid("sup")
        if not alive(sup):
            raise LabError(f"Lab host {host.name} is not running.")
        flags = ["-m", "-u", "-n"] + (["-C"] if host.cgroups else [])
        env = ["env", "-i", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root", "LANG=C.UTF-8"]
        return ["nsenter", "-t", str(sup), *flags, f"-w{cwd}", "--", *env, *argv]

    def run(
        self, n: int, *argv: str, check: bool = True, input: str | None = None, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            self.host_command(n, list(argv)),
            input=input,
            text=True,
            capture_output=True,
            timeout=timeout,
        )
        if check and done.returncode != 0:
            raise LabError(
                f"{' '.join(argv)} on {host_name(n)} failed ({done.returncode}): "
                f"{done.stderr.strip()}"
            )
        return done

    def virsh(
        self, n: int, *args: str, check: bool = True, input: str | None = None, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        """`virsh -q -c qemu:///system ARGS` run directly on host n (not through vdctui)."""
        return self.run(
            n,
            "virsh",
            "-q",
            "-c",
            "qemu:///system",
            *args,
            check=check,
            input=input,
            timeout=timeout,
        )

    def ssh_command(self, n: int, *argv: str) -> list[str]:
        return ["ssh", "-F", str(self.ssh_dir / "config"), f"root@{host_ip(n)}", *argv]

    # --- up ---------------------------------------------------------------------------

    def owner(self) -> int | None:
        """The live process that holds the lab for its lifetime (a test session), if any."""
        try:
            pid = int((self.state / "owner").read_text())
        except (OSError, ValueError):
            return None
        return pid if alive(pid) and pid != os.getpid() else None

    def up(
        self, count: int, *, hold: bool = False, wait_s: float = 0.0, bmcs: bool = False
    ) -> float:
        """Bring up hosts labh1..labhN (tearing down a lab left from before); seconds taken.

        `hold`: this process holds the lab until it takes it down (a test session); a lab
        held by another live process is never taken down by `up`: it waits up to `wait_s`
        for it to go, then refuses (one machine has room for one lab). `bmcs`: each host
        also gets a Redfish BMC that really cuts its power (`tests/lab/bmc.py`)."""
        if not 1 <= count <= 9:
            raise LabError(f"A lab has 1 to 9 hosts, not {count}.")
        if os.geteuid() != 0:
            raise LabError("The lab needs root (network namespaces, mounts, cgroups).")
        missing = missing_programs()
        if missing:
            raise LabError(f"The lab needs {', '.join(missing)}: apt-get install {PACKAGES}.")
        started = time.monotonic()
        deadline = started + wait_s
        while (holder := self.owner()) is not None:
            if time.monotonic() >= deadline:
                raise LabError(
                    f"A lab is up for process {holder} (a test session?); wait for it to end, "
                    "or take it down with `python -m tests.lab down`."
                )
            time.sleep(1.0)
        if self.state.exists():
            log("a lab is left from before: taking it down first")
            self.down()
        try:
            self._up(count)
            if bmcs:
                bmc.start(self.state, count)
            if hold:
                (self.state / "owner").write_text(str(os.getpid()))
        except BaseException:
            log("up failed: taking down what was made")
            self.down()
            raise
        took = time.monotonic() - started
        log(f"up {count} done in {took:.1f}s (guests use {self.accel.upper()})")
        return took

    def _up(self, count: int) -> None:
        (self.state / "pids").mkdir(parents=True)
        created = [p for p in ("/run/netns", "/run/mount") if not Path(p).exists()]
        (self.state / "created").write_text("\n".join(created))
        (self.state / "accel").write_text("kvm" if kvm_usable() else "tcg")
        making.system_prerequisites()
        self._client_files(count)
        _sh("ip", "link", "add", BRIDGE, "type", "bridge")
        (self.state / "bridge").write_text(BRIDGE)
        _sh("ip", "link", "set", BRIDGE, "up")
        _sh("ip", "addr", "add", f"{NET}.1/24", "dev", BRIDGE)
        cached = self._seed_capabilities_available()
        for n in range(1, count + 1):
            self._make_host(n)
        self._write_known_hosts(count)
        write_halt_image(self.images)
        if cached:
            for n in range(1, count + 1):
                self._start_host(n)
        else:
            # probing QEMU's capabilities costs seconds of CPU: one host probes, the
            # others start from its cache (and every later `up` from the kept copy)
            self._start_host(1)
            self._wait_libvirt(1)
            self._save_capabilities(1)
            for n in range(2, count + 1):
                self._seed_capabilities(n)
                self._start_host(n)
        for n in range(1, count + 1):
            self._wait_libvirt(n)
            self._wait_ssh(n)
        if not cached:
            self._save_capabilities(1)

    def _client_files(self, count: int) -> None:
        making.client_files(self.state, self.ssh_dir, count)

    def _make_host(self, n: int) -> None:
        making.make_host(self.host(n), self.client_key)

    def _write_known_hosts(self, count: int) -> None:
        making.known_hosts(self.known_hosts, [self.host(n) for n in range(1, count + 1)])

    def _seed_capabilities_available(self) -> bool:
        return self.capcache is not None and any(self.capcache.glob("*.xml"))

    def _seed_capabilities(self, n: int, source: Path | None = None) -> None:
        source = source or self.capcache
        if source is None:
            return
        target = self.host(n).home / "cache" / "qemu" / "capabilities"
        target.mkdir(parents=True, exist_ok=True)
        for f in source.glob("*.xml"):
            shutil.copy(f, target / f.name)

    def _save_capabilities(self, n: int) -> None:
        source = self.host(n).home / "cache" / "qemu" / "capabilities"
        if self.capcache is None or not any(source.glob("*.xml")):
            return
        self.capcache.mkdir(parents=True, exist_ok=True)
        for f in source.glob("*.xml"):
            shutil.copy(f, self.capcache / f.name)

    def _start_host(self, n: int) -> None:
        host = self.host(n)
        if self._seed_capabilities_available():
            self._seed_capabilities(n)
        controllers = (host.home / "controllers").read_text().strip()
        procs = [str(cg / "cgroup.procs") for cg in host.cgroups]
        unshare = ["unshare", "--mount", "--uts", "--propagation", "private", "--fork"]
        if procs:
            unshare.insert(3, "--cgroup")
        inner = [sys.executable, "-I", str(SUPERVISOR), str(n), str(self.state), controllers]
        # the shell joins the host's cgroups first, so the cgroup namespace is rooted there
        glue = 'for f in $LAB_CGROUP_PROCS; do echo $$ > "$f" || exit 1; done; exec "$@"'
        argv = ["sh", "-c", glue, "sh", "ip", "netns", "exec", host.netns, *unshare, *inner]
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LAB_CGROUP_PROCS": " ".join(procs)}
        out = open(host.home / "supervisor.out", "ab")  # noqa: SIM115 - the child keeps it
        with out:
            proc = subprocess.Popen(
                argv,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=out,
                start_new_session=True,
            )
        self._wrappers.append(proc)
        (host.home / "pids" / "wrapper").write_text(str(proc.pid))

    def _wait_libvirt(self, n: int, timeout: float = 120) -> None:
        host = self.host(n)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            wrapper = host.pid("wrapper")
            if not alive(wrapper) and not alive(host.pid("sup")):
                raise LabError(
                    f"The supervisor of {host.name} ended: {_tail(host.home / 'supervisor.out')}"
                )
            if alive(host.pid("sup")) and (host.home / "run/libvirt/libvirt-sock").exists():
                done = self.virsh(n, "version", check=False, timeout=30)
                if done.returncode == 0:
                    return
            time.sleep(0.1)
        raise LabError(
            f"libvirtd on {host.name} did not come up in {timeout:.0f}s "
            f"(see {host.home / 'libvirtd.out'}, {host.home / 'log' / 'libvirtd.log'})."
        )

    def _wait_ssh(self, n: int, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            done = subprocess.run(self.ssh_command(n, "true"), capture_output=True, timeout=30)
            if done.returncode == 0:
                return
            time.sleep(0.1)
        raise LabError(
            f"sshd on {host_name(n)} ({host_ip(n)}) does not let the lab's key in "
            f"(see {self.host(n).home / 'sshd.log'})."
        )

    # --- a host that dies, and comes back ----------------------------------------------

    def kill_host(self, n: int) -> None:
        """Its management dies: libvirtd, and sshd with every session (its guests run on)."""
        host = self.host(n)
        doomed = [host.pid("libvirtd"), host.pid("sshd"), *host.processes_named("sshd")]
        for pid in {p for p in doomed if alive(p)}:
            assert pid is not None
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def revive_host(self, n: int) -> None:
        """Start the dead daemons of host n again; returns once it answers over SSH."""
        host = self.host(n)
        sup = host.pid("sup")
        if not alive(sup):
            raise LabError(f"Lab host {host.name} has no supervisor.")
        assert sup is not None
        os.kill(sup, signal.SIGUSR1)
        deadline = time.monotonic() + 30
        while not all(alive(host.pid(d)) for d in DAEMONS):
            if time.monotonic() > deadline:
                raise LabError(f"Lab host {host.name} did not come back.")
            time.sleep(0.1)
        self._wait_libvirt(n)
        self._wait_ssh(n)

    # --- down -------------------------------------------------------------------------

    def down(self) -> float:
        """Stop every process the lab started and remove everything it made; seconds taken."""
        started = time.monotonic()
        bmc.stop(self.state)
        hosts = self.hosts()
        for host in hosts:
            if alive(host.pid("sup")) and alive(host.pid("libvirtd")):
                with contextlib.suppress(LabError, subprocess.TimeoutExpired):
                    running = self.virsh(host.number, "list", "--name", timeout=20).stdout
                    for name in running.split():
                        self.virsh(host.number, "destroy", name, check=False, timeout=20)
            with contextlib.suppress(ProcessLookupError):
                pid = host.pid("sup")
                if alive(pid):
                    assert pid is not None
                    os.kill(pid, signal.SIGTERM)
        for host in hosts:
            self._reap(host)
        for host in hosts:
            _sh("ip", "netns", "del", host.netns, check=False, quiet=True)
            _sh("ip", "link", "del", f"{host.netns}-v", check=False, quiet=True)
            for cg in host.cgroups:
                for d in sorted(
                    (p for p in cg.glob("**/") if p.is_dir()), key=lambda p: -len(p.parts)
                ):
                    with contextlib.suppress(OSError):
                        d.rmdir()
                if cg.exists():
                    log(f"WARNING: could not remove the cgroup {cg}")
        if (self.state / "bridge").exists() or self.state.exists():
            _sh("ip", "link", "del", BRIDGE, check=False, quiet=True)
        created = []
        with contextlib.suppress(OSError):
            created = (self.state / "created").read_text().split()
        shutil.rmtree(self.state, ignore_errors=True)
        if "/run/netns" in created and not any(Path("/run/netns").glob("*")):
            _sh("umount", "/run/netns", check=False, quiet=True)
            with contextlib.suppress(OSError):
                Path("/run/netns").rmdir()
        if "/run/mount" in created:
            with contextlib.suppress(OSError):
                Path("/run/mount").rmdir()
        return time.monotonic() - started

    def footprint(self) -> dict[str, list[str]]:
        """What the lab holds on this machine now: processes, namespaces, links, cgroups."""
        hosts = self.hosts()
        netns = _sh("ip", "netns", "list", check=False, quiet=True).stdout.split()
        links = _sh("ip", "-br", "link", check=False, quiet=True).stdout.split("\n")
        return {
            "processes": [str(p) for h in hosts for p in self._recorded_pids(h)]
            + [str(p) for p in bmc.pids(self.state)],
            "namespaces": [n for n in netns if n.startswith(NETNS_PREFIX)],
            "links": [ln.split()[0] for ln in links if ln.startswith((BRIDGE, NETNS_PREFIX))],
            "cgroups": [str(c) for h in hosts for c in h.cgroups if c.exists()],
            "state": [str(self.state)] if self.state.exists() else [],
        }

    def _recorded_pids(self, host: LabHost) -> list[int]:
        pids = [host.pid(w) for w in ("sup", "wrapper", *DAEMONS)]
        found = {p for p in pids if p} | set(host.qemu_pids()) | set(host.cgroup_pids())
        return sorted(p for p in found if alive(p))

    def _reap(self, host: LabHost) -> None:
        deadline = time.monotonic() + 15
        signalled: dict[int, int] = {}
        while True:
            self._collect_wrappers()
            left = self._recorded_pids(host)
            if not left:
                return
            waited = 15 - (deadline - time.monotonic())
            sig = signal.SIGKILL if waited > 8 else signal.SIGTERM if waited > 3 else None
            if time.monotonic() > deadline:
                log(f"WARNING: {host.name} processes still alive: {left}")
                return
            for pid in left:
                if sig is not None and signalled.get(pid) != sig:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, sig)
                    signalled[pid] = sig
            time.sleep(0.1)

    def _collect_wrappers(self) -> None:
        for proc in list(self._wrappers):
            if proc.poll() is not None:
                self._wrappers.remove(proc)

    # --- status -----------------------------------------------------------------------

    def status(self) -> str:
        hosts = self.hosts()
        if not hosts:
            return "lab is down"
        lines = []
        done = _sh("ip", "-br", "addr", "show", BRIDGE, check=False, quiet=True)
        lines.append(f"bridge {BRIDGE}: {' '.join(done.stdout.split()[1:3]) or 'missing'}")
        lines.append(f"guests use {self.accel.upper()}")
        for host in hosts:
            parts = []
            for what in ("sup", *reversed(DAEMONS)):
                pid = host.pid(what)
                parts.append(f"{what}={pid if alive(pid) else 'DEAD'}")
            lines.append(f"{host.name} {host.ip}: {' '.join(parts)}")
            if not alive(host.pid("sup")):
                continue
            hostname = self.run(host.number, "hostname", check=False).stdout.strip()
            domains = self.virsh(host.number, "list", "--all", check=False, timeout=20)
            rows = [line.split() for line in domains.stdout.splitlines()]
            names = " ".join(f"{w[1]}({' '.join(w[2:])})" for w in rows if len(w) >= 3)
            lines.append(f"  hostname={hostname} host_uuid={host_uuid(host.number)}")
            lines.append(f"  domains: {names or '-'}")
        return "\n".join(lines)
