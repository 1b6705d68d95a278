"""An emulated host's `virsh`: the subset the console uses, in libvirt 9.x's output formats.

`Virsh(fleet, host).run(command_line, stdin)` answers one exec the way
`LC_ALL=C virsh -q -c URI ...` on that host would: stdout, stderr and an exit
status. Domain names are looked up on that host only (like a real libvirtd).
"""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..errors import FleetError, HostUnreachable, NoSuchVm
from ..fleet import Fleet
from ..migration import Migration
from ..vm import CRASHED, IN_SHUTDOWN, PAUSED, RUNNING, SHUT_OFF, Vm
from . import virsh_config, virsh_snapshots
from .virsh_config import ConfigCommands
from .virsh_host import HostCommands, interfaces, probe_mark, probe_words
from .virsh_snapshots import SnapshotCommands
from .words import ShellInjection, Unbalanced, shell_sequence, shell_words, virsh_commands

STATE_CODES = {RUNNING: 1, PAUSED: 3, IN_SHUTDOWN: 4, SHUT_OFF: 5, CRASHED: 6}
STATE_REASONS = {RUNNING: 1, PAUSED: 1, IN_SHUTDOWN: 1, SHUT_OFF: 1, CRASHED: 1}
REASON_WORDS = {  # virsh's words for the reasons above
    RUNNING: "booted",
    PAUSED: "user",
    IN_SHUTDOWN: "user",
    SHUT_OFF: "shutdown",
    CRASHED: "panicked",
}
METADATA_NS = "https://github.com/vdctui/emulator"
IMAGES = "/var/lib/libvirt/images"
GIB = 1 << 30

# options that take a value, per command (the rest are flags); positionals fill `ORDER`
VALUED = {
    "list": set(),
    "domstats": set(),
    "dominfo": {"domain"},
    "domstate": {"domain"},
    "dumpxml": {"domain"},
    "start": {"domain"},
    "shutdown": {"domain"},
    "destroy": {"domain"},
    "reboot": {"domain"},
    "suspend": {"domain"},
    "resume": {"domain"},
    "undefine": {"domain"},
    "setvcpus": {"domain", "count"},
    "setmem": {"domain", "size"},
    "define": {"file"},
    "migrate": {"domain", "desturi", "migrateuri", "bandwidth"},
    "domjobinfo": {"domain"},
    "domjobabort": {"domain"},
    "nodeinfo": set(),
    "nodememstats": set(),
    "nodecpustats": set(),
    "domiflist": {"domain"},
    "pool-list": set(),
    "echo": set(),
}
ORDER = {
    "dominfo": ["domain"],
    "domstate": ["domain"],
    "dumpxml": ["domain"],
    "start": ["domain"],
    "shutdown": ["domain"],
    "destroy": ["domain"],
    "reboot": ["domain"],
    "suspend": ["domain"],
    "resume": ["domain"],
    "undefine": ["domain"],
    "setvcpus": ["domain", "count"],
    "setmem": ["domain", "size"],
    "define": ["file"],
    "migrate": ["domain", "desturi", "migrateuri"],
    "domjobinfo": ["domain"],
    "domjobabort": ["domain"],
    "domiflist": ["domain"],
}
VALUED.update(virsh_snapshots.VALUED)
VALUED.update(virsh_config.VALUED)
DEFAULT_MAX_DOWNTIME_MS = virsh_config.DEFAULT_MAX_DOWNTIME_MS
ORDER.update(virsh_snapshots.ORDER)
ORDER.update(virsh_config.ORDER)
VERBS = {
    "start": "started",
    "shutdown": "is being shutdown",
    "destroy": "destroyed",
    "reboot": "is being rebooted",
    "suspend": "suspended",
    "resume": "resumed",
}


class VirshError(Exception):
    """One virsh command failed: the `error: ...` lines and the exit status 1."""

    def __init__(self, *lines: str) -> None:
        super().__init__(lines[-1] if lines else "")
        self.lines = lines


@dataclass
class Result:
    stdout: str = ""
    stderr: str = ""
    status: int = 0


@dataclass
class Output:
    out: list[str] = field(default_factory=list)
    err: list[str] = field(default_factory=list)
    echo_newline: bool = False  # virsh -q ends no echo with a newline; interactive virsh does


class Virsh(HostCommands, SnapshotCommands, ConfigCommands):
    """The virsh of one emulated host of `fleet`.

    `resolve_host(address)` maps the host part of a migration URI to a fleet host
    name (by default: the name itself). `on_injection(host, command, why)` is
    told of any command line a real shell would have run more of.
    """

    def __init__(
        self,
        fleet: Fleet,
        host: str,
        *,
        resolve_host: Callable[[str], str | None] | None = None,
        on_injection: Callable[[str, str, str], None] | None = None,
        poll_s: float = 0.02,
    ) -> None:
        self.fleet = fleet
        self.host = host
        self.resolve_host = resolve_host or (lambda address: address)
        self.on_injection = on_injection
        self.poll_s = poll_s

    # --- the exec ----------------------------------------------------------------------

    async def run(self, command_line: str, stdin: str = "") -> Result:
        parts = shell_sequence(command_line)
        words = probe_words(parts[-1]) if len(parts) <= 2 else None
        mark = probe_mark(words) if words is not None else None
        if mark is not None:  # the console's poll: [a virsh script, then] the process probe
            first = await self.run(parts[0], stdin) if len(parts) == 2 else Result()
            return Result(first.stdout + self.process_probe(mark), first.stderr, 0)
        try:
            words = shell_words(command_line)
        except ShellInjection as exc:
            if self.on_injection:
                self.on_injection(self.host, command_line, str(exc))
            return Result(stderr=f"emulated shell: refused: {exc}\n", status=127)
        except Unbalanced as exc:
            return Result(stderr=f"sh: 1: Syntax error: {exc}\n", status=2)
        while words and "=" in words[0] and not words[0].startswith("="):
            words.pop(0)  # environment assignments such as LC_ALL=C
        if not words:
            return Result()
        if words[0] != "virsh":
            return Result(stderr=f"sh: 1: {words[0]}: not found\n", status=127)
        args = words[1:]
        while args and args[0].startswith("-"):
            flag = args.pop(0)
            if flag in ("-c", "--connect"):
                if not args:
                    return Result(stderr="error: option '-c' requires an argument\n", status=1)
                args.pop(0)
            elif flag not in ("-q", "--quiet", "-r", "--readonly"):
                return Result(stderr=f"error: unsupported option '{flag}'\n", status=1)
        if len(args) == 1:
            try:
                commands = virsh_commands(args[0])
            except Unbalanced as exc:
                return Result(stderr=f"error: {exc}\n", status=1)
        else:
            commands = [args] if args else []
        return await self._script(commands, stdin, Output())

    async def run_line(self, line: str) -> Result:
        """One line typed into an interactive virsh (not quiet: an echo ends its line)."""
        try:
            commands = virsh_commands(line)
        except Unbalanced as exc:
            return Result(stderr=f"error: {exc}\n", status=1)
        return await self._script(commands, "", Output(echo_newline=True))

    async def _script(self, commands: list[list[str]], stdin: str, out: Output) -> Result:
        status = 0
        for command in commands:
            try:
                status = 0
                self.fleet.check_reachable(self.host)
                await self._one(command, stdin, out)
            except VirshError as exc:
                out.err.extend(f"error: {line}\n" for line in exc.lines)
                status = 1
            except HostUnreachable:
                raise
        return Result("".join(out.out), "".join(out.err), status)

    async def _one(self, command: list[str], stdin: str, out: Output) -> None:
        name, argv = command[0], command[1:]
        if name not in VALUED:
            raise VirshError(f"unknown command: '{name}'")
        opts, flags, rest = self._options(name, argv)
        handler = getattr(self, "cmd_" + name.replace("-", "_"))
        result = handler(opts, flags, rest, stdin, out)
        if asyncio.iscoroutine(result):
            await result

    def _options(self, name: str, argv: list[str]) -> tuple[dict[str, str], set[str], list[str]]:
        valued = VALUED[name]
        opts: dict[str, str] = {}
        flags: set[str] = set()
        rest: list[str] = []
        i = 0
        while i < len(argv):
            word = argv[i]
            if word.startswith("--") and name != "echo":
                key = word[2:]
                if "=" in key:
                    key, _, value = key.partition("=")
                    opts[key] = value
                elif key in valued:
                    if i + 1 >= len(argv):
                        raise VirshError(f"command '{name}' requires <{key}> option")
                    opts[key] = argv[i + 1]
                    i += 1
                else:
                    flags.add(key)
            else:
                rest.append(word)
            i += 1
        for key in ORDER.get(name, []):
            if key not in opts and rest:
                opts[key] = rest.pop(0)
        return opts, flags, rest

    def _domain(self, opts: dict[str, str]) -> Vm:
        name = opts.get("domain")
        if name is None:
            raise VirshError("command requires <domain> option")
        vm = self.fleet.vms.get(name)
        if vm is None or (vm.host != self.host and self.staged().get(name) != self.host):
            # libvirt looks up by name, id or uuid; the console always gives names
            raise VirshError(f"failed to get domain '{name}'")
        return vm

    def _change(self, verb: str, name: str, call: Callable[[], Any]) -> None:
        try:
            call()
        except NoSuchVm:
            raise VirshError(f"failed to get domain '{name}'") from None
        except HostUnreachable:
            raise
        except FleetError as exc:
            raise VirshError(
                f"Failed to {verb} domain '{name}'", f"Requested operation is not valid: {exc}"
            ) from None

    # --- reads ---------------------------------------------------------------------------

    def cmd_echo(
        self, opts: dict[str, str], flags: set[str], rest: list[str], stdin: str, out: Output
    ) -> None:
        words = rest[1:] if rest[:1] == ["--"] else rest
        # -q: virsh 9 prints echo without a newline
        out.out.append(" ".join(words) + ("\n" if out.echo_newline else ""))

    def cmd_nodeinfo(
        self, opts: dict[str, str], flags: set[str], rest: list[str], stdin: str, out: Output
    ) -> None:
        h = self.fleet.hosts[self.host]
        sockets = 2 if h.cores % 2 == 0 else 1
        rows = [
            ("CPU model:", "x86_64"),
            ("CPU(s):", str(h.threads)),
            ("CPU frequency:", f"{h.mhz} MHz"),
            ("CPU socket(s):", str(sockets)),
            ("Core(s) per socket:", str(h.cores // sockets)),
            ("Thread(s) per core:", str(max(h.threads // h.cores, 1))),
            ("NUMA cell(s):", "1"),
            ("Memory size:", f"{h.memory_mib * 1024} KiB"),
        ]
        out.out.extend(f"{k:<20} {v}\n" for k, v in rows)

    def _vms(self) -> list[Vm]:
        return self.fleet.vms_on(self.host)

    def cmd_list(
        self, opts: dict[str, str], flags: set[str], rest: list[str], stdin: str, out: Output
    ) -> None:
        vms = [v for v in self._vms() if "all" in flags or v.state != SHUT_OFF]
        if "inactive" in flags:
            vms = [v for v in vms if v.state == SHUT_OFF]
        if "transient" in flags:
            vms = []  # emulated VMs are all persistent
        if "autostart" in flags:
            vms = [v for v in vms if v.name in self.fleet.autostart]
        if "name" in flags:
            out.out.extend(f"{v.name}\n" for v in vms)
            return
        ids = self._ids()
        for v in vms:
            out.out.append(f" {ids.get(v.name, '-'):<4} {v.name:<30} {v.state}\n")

    def _ids(self) -> dict[str, int]:
        active = [v for v in self._vms() if v.state != SHUT_OFF]
        return {v.name: i + 1 for i, v in enumerate(active)}

    def cmd_domstats(
        self, opts: dict[str, str], flags: set[str], rest: list[str], stdin: str, out: Output
    ) -> None:
        vms = [self._domain({"domain": n}) for n in rest] if rest else self._vms()
        ids = self._ids()
        for v in vms:
            active = v.state != SHUT_OFF
            cpu = self._cpu_time_ns(v)
            lines = [
                f"state.state={STATE_CODES[v.state]}",
                f"state.reason={STATE_REASONS[v.state]}",
            ]
            if active:
                lines += [
                    f"cpu.time={cpu}",
                    f"cpu.user={int(cpu * 0.8)}",
                    f"cpu.system={cpu - int(cpu * 0.8)}",
                ]
            lines += [
                f"balloon.current={v.memory_mib * 1024}",
                f"balloon.maximum={v.max_memory_mib * 1024}",
            ]
            if active:
                lines.append(f"balloon.rss={v.memory_mib * 1024}")
            lines += [
                f"vcpu.current={v.vcpus}",
                f"vcpu.maximum={v.max_vcpus}",
                "block.count=1",
                "block.0.name=vda",
                f"block.0.path={IMAGES}/{v.datastore}/{v.name}.qcow2",
                f"block.0.capacity={int(v.disk_gib * GIB)}",
            ]
            nics = interfaces(v, ids) if active else []
            lines.append(f"net.count={len(nics)}")
            lines += [f"net.{i}.name={nic[0]}" for i, nic in enumerate(nics)]
            out.out.append(f"Domain: '{v.name}'\n" + "".join(f"  {x}\n" for x in lines) + "\n")

    def cmd_dominfo(
        self, opts: dict[str, str], flags: set[str], rest: list[str], stdin: str, out: Output
    ) -> None:
        v = self._domain(opts)
        rows = [
            ("Id:", str(self._ids().get(v.name, "-"))),
            ("Name:", v.name),
            ("UUID:", v.uuid),
            ("OS Type:", "hvm"),
            ("State:", v.state),
            ("CPU(s):", str(v.vcpus)),
        ]
        if v.state != SHUT_OFF:
            rows.append(("CPU time:", f"{self._cpu_time_ns(v) / 1e9:.1f}s"))
        rows += [
            ("Max memory:", f"{v.max_memory_mib * 1024} KiB"),
            ("Used memory:", f"{v.memory_mib * 1024} KiB"),
            ("Persistent:", "yes"),
            ("Autostart:", "disable"),
            ("Managed save:", "no"),
            ("Security model:", "none"),
            ("Security DOI:", "0"),
        ]
        out.out.extend(f"{k:<15} {val}\n" for k, val in rows)

    def cmd_domstate(
        self, opts: dict[str, str], flags: set[str], rest: list[str], stdin: str, out: Output
    ) -> None:
        v = self._domain(opts)
        reason = f" ({REASON_WORDS[v.state]})" if "reason" in flags else ""
        out.out.append(f"{v.state}{reason}\n")

    def cmd_dumpxml(
        self, opts: dict[str, str], flags: set[str], rest: list[str], stdin: str, out: Output
    ) -> None:
        out.out.append(domain_xml(self._domain(opts), self._ids()))

    def cmd_pool_list(
        self, opts: dict[str, str], flags: set[str], rest: list[str], stdin: str, out: Output
    ) -> None:
        for name in self.fleet.host_datastores(self.host):
            out.out.append(f"{name:<20}\n" if "name" in flags else f" {name:<20} active   no\n")

    # --- lifecycle -----------------------------------------------------------------------

    def _lifecycle(
        self, verb: str, call: Callable[[str], None], opts: dict[str, str], out: Output
    ) -> None:
        v = self._domain(opts)
        self._change(verb, v.name, lambda: call(v.name))
        # -q: virsh prints nothing on success

    def cmd_start(
        self, opts: dict[str, str], flags: set[str], rest: list[str], stdin: str, out: Output
    ) -> None:
        v = self._domain(opts)
        if v.state == RUNNING or v.state == PAUSED or v.state == IN_SHUTDOWN:
            raise VirshError(f"Domain '{v.name}' is already active")
        self._lifecycle("start", self.fleet.start_vm, opts, out)

    def cmd_shutdown(
        self, opts: dict[str, str], flags: set[str], rest: list[str], stdin: str, out: Output
    ) -> None:
        self._lifecycle("shutdown", self.fleet.shutdown_vm, opts, out)

    def cmd_destroy(
        self, opts: dict[str, str], flags: set[str], rest: list[str], stdin: str, out: Output
    ) -> None:
        self._lifecycle("destroy", self.fleet.destroy_vm, opts, out)

    def cmd_reboot(
        self, opts: dict[str, str], flags: set[str], rest: list[str], stdin: str, out: Output
    ) -> None:
        self._lifecycle("reboot", self.fleet.reboot_vm, opts, out)

    def cmd_suspend(
        self, opts: dict[str, str], flags: set[str], rest: list[str], stdin: str, out: Output
    ) -> None:
        self._lifecycle("suspend", self.fleet.suspend_vm, opts, out)

    def cmd_resume(
        self, opts: dict[str, str], flags: set[str], rest: list[str], stdin: str, out: Output
    ) -> None:
        self._lifecycle("resume", self.fleet.resume_vm, opts, out)

    def cmd_undefine(
        self, opts: dict[str, str], flags: set[str], rest: list[str], stdin: str, out: Output
    ) -> None:
        v = self._domain(opts)
        if v.name in self.staged():
            if v.host == self.host:  # the source lets go: the other host keeps it
                self._change("undefine", v.name, lambda: self.undefine_staged(v))
            else:  # the second definition goes (a cold move rolled back)
                self.staged().pop(v.name, None)
            return
        self._lifecycle("undefine", self.fleet.undefine_vm, opts, out)

    def cmd_setvcpus(
        self, opts: dict[str, str], flags: set[str], rest: list[str], stdin: str, out: Output
    ) -> None:
        v = self._domain(opts)
        try:
            count = int(opts.get("count", ""))
        except ValueError:
            raise VirshError(
                "Numeric value for <count> option is malformed or out of range"
            ) from None
        self._change("set vcpus of", v.name, lambda: self.fleet.set_vcpus(v.name, count))

    def cmd_setmem(
        self, opts: dict[str, str], flags: set[str], rest: list[str], stdin: str, out: Output
    ) -> None:
        v = self._domain(opts)
        size = opts.get("size", "")
        units = {"KiB": 1, "K": 1, "k": 1, "MiB": 1024, "M": 1024, "GiB": 1024**2, "G": 1024**2}
        number = size.rstrip("KMGikB")
        unit = size[len(number) :] or "KiB"
        try:
            kib = int(number) * units[unit]
        except (ValueError, KeyError):
            raise VirshError("memory size has to be a number") from None
        self._change("set memory of", v.name, lambda: self.fleet.set_memory(v.name, kib // 1024))

    def cmd_define(
        self, opts: dict[str, str], flags: set[str], rest: list[str], stdin: str, out: Output
    ) -> None:
        if opts.get("file") not in ("/dev/stdin", "-"):
            raise VirshError(
                f"Failed to open file '{opts.get('file', '')}': No such file or directory"
            )
        spec = parse_domain_xml(stdin)
        name = spec.pop("name")
        if self.stage_define(name):
            return
        try:
            self.fleet.define_vm(name, self.host, **spec)
        except HostUnreachable:
            raise
        except FleetError as exc:
            raise VirshError(
                f"Failed to define domain from {opts['file']}", f"XML error: {exc}"
            ) from None

    # --- migration -------------------------------------------------------------------------

    async def cmd_migrate(
        self, opts: dict[str, str], flags: set[str], rest: list[str], stdin: str, out: Output
    ) -> None:
        v = self._domain(opts)
        uri = opts.get("desturi", "")
        address = uri.partition("://")[2].split("/", 1)[0].rpartition("@")[2]
        target = self.resolve_host(address) if address else None
        if target is None or target not in self.fleet.hosts:
            raise VirshError(f"operation failed: Failed to connect to remote libvirt URI {uri}")
        live = "offline" not in flags
        for flag in ("compressed", "tunnelled", "copy-storage-inc"):
            if flag in flags:
                raise VirshError(f"Operation not supported: the emulated host has no --{flag}")
        try:
            job = self.fleet.migrate(
                v.name,
                target,
                live=live,
                copy_storage="copy-storage-all" in flags,
                auto_converge="auto-converge" in flags,
                postcopy="postcopy-after-precopy" in flags,
                bandwidth_limit=float(opts.get("bandwidth", "0") or 0) * (1 << 20),
                max_downtime_ms=v.max_downtime_ms or DEFAULT_MAX_DOWNTIME_MS,
            )
        except HostUnreachable as exc:
            raise VirshError(
                f"operation failed: Failed to connect to remote libvirt URI {uri}: {exc}"
            ) from None
        except FleetError as exc:
            raise VirshError(f"Requested operation is not valid: {exc}") from None
        while job.state == "running":
            await asyncio.sleep(self.poll_s)
        if "verbose" in flags and job.state == "completed":
            out.out.append("Migration: [100 %]\n")
        if job.state == "cancelled":
            raise VirshError("operation aborted: migration out job: canceled by client")
        if job.state == "failed":
            raise VirshError(f"operation failed: migration out job: {job.reason}")

    def _job(self, name: str, completed: bool) -> Migration | None:
        if not completed:
            return self.fleet.migrations.get(name)
        for job in reversed(self.fleet.finished_migrations):
            if job.vm == name:
                return job
        return None

    def cmd_domjobinfo(
        self, opts: dict[str, str], flags: set[str], rest: list[str], stdin: str, out: Output
    ) -> None:
        # as libvirt: only the host that has the domain answers; after a migration that
        # is the target, whose completed job is the incoming one (with the real downtime)
        v = self._domain(opts)
        job = self._job(v.name, "completed" in flags)
        if job is not None and job.state == "running" and job.source != self.host:
            raise VirshError(
                "Operation not supported: migration statistics are available only on "
                "the source host"
            )
        if job is not None and "completed" not in flags and job.source != self.host:
            job = None
        if job is None:
            out.out.append("Job type: 0\n\n" if "rawstats" in flags else "Job type:         None\n")
            return
        info = job.jobinfo()
        job_type = {"running": 2, "completed": 3, "failed": 4, "cancelled": 5}[job.state]
        memory = job.memory_bytes
        fields = {
            "operation": 5 if job.source == self.host else 4,  # migration out | in
            "time_elapsed": info["time_elapsed"],
            "data_total": info["data_total"],
            "data_processed": info["data_processed"],
            "data_remaining": info["data_remaining"],
            "memory_total": memory,
            "memory_processed": min(info["data_processed"], max(memory, 0)) if memory else 0,
            "memory_remaining": info["data_remaining"],
            "memory_bps": info["memory_bps"],
            "memory_dirty_rate": info["memory_dirty_rate"],
            "memory_page_size": 4096,
            "memory_iteration": info["memory_iteration"],
            "downtime": info["downtime"],
            "setup_time": 0,
        }
        if job.auto_converge:
            fields["auto_converge_throttle"] = int(job.throttle * 100)
        out.out.append(
            f"Job type: {job_type}\n\n" + "".join(f"{k}: {val}\n" for k, val in fields.items())
        )

    def cmd_domjobabort(
        self, opts: dict[str, str], flags: set[str], rest: list[str], stdin: str, out: Output
    ) -> None:
        v = self._domain(opts)
        if v.name not in self.fleet.migrations:
            raise VirshError("Requested operation is not valid: no job is active on the domain")
        self._change("abort job of", v.name, lambda: self.fleet.abort_migration(v.name))


# --- domain XML ----------------------------------------------------------------------------


def domain_xml(v: Vm, ids: dict[str, int]) -> str:
    """`virsh dumpxml`: libvirt's domain XML, with the emulator's facts in <metadata>."""
    ident = f" id='{ids[v.name]}'" if v.name in ids else ""
    root = ET.Element("domain", {"type": "kvm"})
    ET.SubElement(root, "name").text = v.name
    ET.SubElement(root, "uuid").text = v.uuid
    meta = ET.SubElement(
        ET.SubElement(root, "metadata"),
        f"{{{METADATA_NS}}}vm",
        {
            "disk_gib": f"{v.disk_gib:g}",
            "datastore": v.datastore,
            "pool": v.pool,
            "workload": v.workload,
        },
    )
    meta.tail = None
    ET.SubElement(root, "memory", {"unit": "KiB"}).text = str(v.max_memory_mib * 1024)
    ET.SubElement(root, "currentMemory", {"unit": "KiB"}).text = str(v.memory_mib * 1024)
    ET.SubElement(root, "vcpu", {"placement": "static", "current": str(v.vcpus)}).text = str(
        v.max_vcpus
    )
    devices = ET.SubElement(root, "devices")
    disk = ET.SubElement(devices, "disk", {"type": "file", "device": "disk"})
    ET.SubElement(disk, "source", {"file": f"{IMAGES}/{v.datastore}/{v.name}.qcow2"})
    ET.SubElement(disk, "target", {"dev": "vda", "bus": "virtio"})
    if v.network:
        nic = ET.SubElement(devices, "interface", {"type": "network"})
        ET.SubElement(nic, "source", {"network": v.network})
    ET.register_namespace("vdctui", METADATA_NS)
    ET.indent(root)
    text = ET.tostring(root, encoding="unicode")
    return text.replace('<domain type="kvm">', f"<domain type='kvm'{ident}>", 1) + "\n"


def parse_domain_xml(text: str) -> dict[str, Any]:
    """The define_vm arguments in a domain XML (what the console's SSH driver writes)."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise VirshError(f"XML error: {exc}") from None

    def kib(tag: str) -> int | None:
        node = root.find(tag)
        if node is None or not (node.text or "").strip():
            return None
        unit = node.get("unit", "KiB")
        factor = {"KiB": 1, "MiB": 1024, "GiB": 1024**2}.get(unit)
        if factor is None:
            raise VirshError(f"XML error: unsupported unit {unit!r}")
        return int((node.text or "0").strip()) * factor

    name = (root.findtext("name") or "").strip()
    if not name:
        raise VirshError("XML error: missing domain name")
    vcpu = root.find("vcpu")
    if vcpu is None or not (vcpu.text or "").strip():
        raise VirshError("XML error: missing vcpu count")
    try:
        max_vcpus = int((vcpu.text or "").strip())
        vcpus = int(vcpu.get("current", max_vcpus))
        memory = kib("currentMemory") or kib("memory")
        max_memory = kib("memory")
    except ValueError:
        raise VirshError("XML error: a number is malformed") from None
    if memory is None or max_memory is None:
        raise VirshError("XML error: missing memory")
    meta = root.find(f"metadata/{{{METADATA_NS}}}vm")
    source = root.find("devices/disk/source")
    datastore = ""
    if meta is not None:
        datastore = meta.get("datastore", "")
    elif source is not None:
        datastore = (
            source.get("file", "").rsplit("/", 2)[-2] if "/" in source.get("file", "") else ""
        )
    nic = root.find("devices/interface/source")
    spec: dict[str, Any] = {
        "name": name,
        "vcpus": vcpus,
        "memory_mib": memory // 1024,
        "max_vcpus": max_vcpus,
        "max_memory_mib": max_memory // 1024,
        "datastore": datastore,
        "network": nic.get("network", "") if nic is not None else "",
        "uuid": (root.findtext("uuid") or "").strip(),
    }
    if meta is not None:
        try:
            spec["disk_gib"] = float(meta.get("disk_gib", "20"))
        except ValueError:
            raise VirshError("XML error: disk_gib is malformed") from None
        spec["pool"] = meta.get("pool", "")
        if meta.get("workload"):
            spec["workload"] = meta.get("workload")
    return spec
