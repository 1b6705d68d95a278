"""Building the `virsh` command lines the SSH driver sends, and quoting them.

Two layers of quoting, both POSIX single-quote style (`shlex.quote`):
- every argument of a remote command is quoted for the remote shell, so a VM
  named `x; touch /tmp/pwned` or `$(reboot)` is one argument, never a command;
- the read-only poll packs several virsh commands into one virsh *script*
  (`virsh 'nodeinfo; list --all --name; ...'`): names inside that script are
  quoted for virsh's own tokenizer (which splits on `;` and newlines outside
  quotes and treats single quotes like a shell does), then the whole script is
  quoted once more for the shell.

Names always follow an option (`--domain NAME`) so a name starting with `-`
is never read as an option.
"""

from __future__ import annotations

import secrets
import shlex
from collections.abc import Iterable, Sequence

DEFAULT_URI = "qemu:///system"
SECTION = "@@vdctui-{nonce}:{name}@@"


def quote(word: str) -> str:
    """One word for a POSIX shell or virsh's tokenizer: always single-quoted when not plain."""
    return shlex.quote(word)


def virsh(uri: str, *args: str) -> str:
    """`LC_ALL=C virsh -q -c URI ARGS...` as one remote shell command line."""
    words = ["virsh", "-q", "-c", uri, *args]
    return "LC_ALL=C " + " ".join(quote(w) for w in words)


def script_line(commands: Sequence[Sequence[str]]) -> str:
    """Several virsh commands as one line of virsh's own syntax (`a; b --x 'y z'`): what a
    virsh script holds, or a line typed into an interactive virsh."""
    return "; ".join(" ".join(quote(w) for w in command) for command in commands)


def virsh_script(uri: str, commands: Sequence[Sequence[str]]) -> str:
    """Several virsh commands run by one virsh process (one exec, one libvirt connection)."""
    return virsh(uri, script_line(commands))


class Sections:
    """Markers between the outputs of a virsh script's commands.

    Each marker carries a random nonce, so no name a host reports (which a
    guest owner may have chosen) can fake one.
    """

    def __init__(self, nonce: str | None = None) -> None:
        self.nonce = nonce or secrets.token_hex(8)

    def marker(self, name: str) -> str:
        return SECTION.format(nonce=self.nonce, name=name)

    def echo(self, name: str) -> list[str]:
        return ["echo", self.marker(name)]

    def split(self, output: str) -> dict[str, str]:
        """The text after each marker, up to the next one (text before the first is dropped)."""
        found: dict[str, str] = {}
        head = SECTION.format(nonce=self.nonce, name="")[:-2]  # "@@vdctui-NONCE:"
        parts = output.split(head)
        for part in parts[1:]:
            name, sep, rest = part.partition("@@")
            if sep:
                found[name] = rest
        return found


def poll_commands(sections: Sections) -> list[list[str]]:
    """The read-only poll of one host: facts, domains, their stats, storage pools."""
    return [
        sections.echo("nodeinfo"),
        ["nodeinfo"],
        sections.echo("nodememstats"),
        ["nodememstats"],
        sections.echo("nodecpustats"),
        ["nodecpustats"],
        sections.echo("list"),
        ["list", "--all", "--name"],
        sections.echo("persistent"),
        ["list", "--all", "--name", "--persistent"],
        sections.echo("autostart"),
        ["list", "--all", "--name", "--autostart"],
        sections.echo("domstats"),
        ["domstats", "--raw"],
        sections.echo("pools"),
        ["pool-list", "--all", "--name"],
        sections.echo("end"),
    ]


SYSTEM_URI = "qemu:///system"
PIDFILES = "/run/libvirt/qemu/*.pid"  # QEMU's pidfile per running domain of qemu:///system
# For each pidfile, the line QEMU's /proc/PID/stat has (its start, in clock ticks since
# boot), after the host's /proc/uptime and clock ticks: a VM's uptime without a guest agent.
PROCESS_PROBE = (
    'BEGIN { print mark; if ((getline u < "/proc/uptime") > 0) print "uptime", u; '
    'if (("getconf CLK_TCK" | getline t) > 0) print "ticks", t } '
    'FNR == 1 { f = "/proc/" $1 "/stat"; if ((getline s < f) > 0) print FILENAME "\t" s; '
    "close(f) }"
)


def probes_processes(uri: str) -> bool:
    """Whether the process probe can find the host's QEMUs (the pidfiles of qemu:///system)."""
    return uri == SYSTEM_URI


def process_probe(sections: Sections) -> str:
    """The process probe alone, as one exec (its output after the `processes` marker)."""
    probe = ["awk", "-v", f"mark={sections.marker('processes')}", PROCESS_PROBE]
    return f"{' '.join(quote(w) for w in probe)} {PIDFILES}"


def poll(uri: str, sections: Sections) -> str:
    """The poll of one host as one exec: the virsh script, then (on `qemu:///system`, whose
    QEMU pidfiles are known) the process probe. Nothing in it comes from a host or a user
    but the URI, quoted."""
    line = virsh_script(uri, poll_commands(sections))
    if not probes_processes(uri):
        return line
    return f"{line}; {process_probe(sections)}"


def detail_commands(
    sections: Sections, dominfo: Iterable[str], domiflist: Iterable[str] = ()
) -> list[list[str]]:
    """`dominfo` for domains whose domstats lack figures (libvirt's test driver: state
    only) and `domiflist` for domains whose interfaces the console does not know yet."""
    commands: list[list[str]] = []
    for i, name in enumerate(dominfo):
        commands += [sections.echo(f"dominfo-{i}"), ["dominfo", "--domain", name]]
    for i, name in enumerate(domiflist):
        commands += [sections.echo(f"domiflist-{i}"), ["domiflist", "--domain", name]]
    commands.append(sections.echo("end"))
    return commands


# --- changes: one exec each ------------------------------------------------------------

LIFECYCLE = {
    "start": ["start"],
    "shutdown": ["shutdown"],
    "destroy": ["destroy"],
    "reboot": ["reboot"],
    "suspend": ["suspend"],
    "resume": ["resume"],
    "undefine": ["undefine"],
}


def lifecycle(uri: str, action: str, name: str) -> str:
    return virsh(uri, *LIFECYCLE[action], "--domain", name)


def set_vcpus(uri: str, name: str, vcpus: int, *, live: bool) -> str:
    flags = ["--live", "--config"] if live else ["--config"]
    return virsh(uri, "setvcpus", "--domain", name, "--count", str(int(vcpus)), *flags)


def set_memory(uri: str, name: str, memory_mib: int, *, live: bool) -> str:
    flags = ["--live", "--config"] if live else ["--config"]
    return virsh(uri, "setmem", "--domain", name, "--size", f"{int(memory_mib) * 1024}KiB", *flags)


def define_from_stdin(uri: str) -> str:
    return virsh(uri, "define", "--file", "/dev/stdin")


def migrate(
    uri: str,
    name: str,
    target_uri: str,
    *,
    live: bool = True,
    copy_storage: bool = False,
    auto_converge: bool = False,
    p2p: bool = True,
    extra: Sequence[str] = (),
) -> str:
    """`virsh migrate`: peer-to-peer (the source's libvirtd dials the target) or
    client-managed (this virsh, on the source host, drives both libvirtds)."""
    flags = ["--live"] if live else ["--offline"]
    flags += ["--persistent", "--undefinesource", *(["--p2p"] if p2p else []), "--verbose"]
    if copy_storage:
        flags.append("--copy-storage-all")
    if auto_converge:
        flags.append("--auto-converge")
    flags += [f for f in extra if f not in flags]
    return virsh(uri, "migrate", *flags, "--domain", name, "--desturi", target_uri)


def domjobinfo_args(name: str, *, completed: bool = False) -> list[str]:
    # --keep-completed: libvirt clears a completed job's figures once read, unless told not
    # to; an operator's own `virsh domjobinfo --completed` should still see them
    extra = ["--completed", "--keep-completed"] if completed else []
    return ["domjobinfo", "--domain", name, "--rawstats", *extra]


def domjobinfo(uri: str, name: str, *, completed: bool = False) -> str:
    return virsh(uri, *domjobinfo_args(name, completed=completed))


def dumpxml(uri: str, name: str, *, migratable: bool = False, live_migratable: bool = False) -> str:
    """`migratable`: the persistent definition as a migration sends it; `live_migratable`:
    the running domain's."""
    extra = ["--inactive", "--migratable"] if migratable else []
    extra = ["--migratable"] if live_migratable else extra
    return virsh(uri, "dumpxml", "--domain", name, *extra)


def domstate_args(name: str) -> list[str]:
    return ["domstate", "--domain", name, "--reason"]


def domstate(uri: str, name: str) -> str:
    return virsh(uri, *domstate_args(name))


def set_max_downtime(uri: str, name: str, downtime_ms: int) -> str:
    """The longest pause the VM's next (or running) migration may take, in ms."""
    return virsh(
        uri, "migrate-setmaxdowntime", "--domain", name, "--downtime", str(int(downtime_ms))
    )


def get_max_downtime(uri: str, name: str) -> str:
    """The VM's max downtime for a migration (QEMU's 300 ms until set), in ms."""
    return virsh(uri, "migrate-getmaxdowntime", "--domain", name)


def domjobabort(uri: str, name: str) -> str:
    return virsh(uri, "domjobabort", "--domain", name)


def target_uri(uri: str, target_address: str) -> str:
    """The URI the source host dials for a p2p migration: `qemu+ssh://TARGET/system`."""
    scheme, _, rest = uri.partition("://")
    driver = scheme.split("+", 1)[0] or "qemu"
    path = rest.split("/", 1)[1] if "/" in rest else "system"
    return f"{driver}+ssh://{target_address}/{path}"
