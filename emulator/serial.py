"""A VM's serial console on an emulated host, as `virsh console VM` presents it.

`SerialConsole(fleet, host, vm)` is what a terminal talks to: `open()` says what virsh
says when it connects (or raises `ConsoleRefused` with virsh's error), then `feed(text)`
takes what the operator typed and returns what the guest (or virsh) writes back. The
guest is a login prompt (any user name and password: an emulated guest) and a tiny shell
that answers `uptime`, `free -m`, `nproc` and `hostname` with the VM's own figures from
the fleet, `exit`/`logout` (back to the login prompt), and nothing else.

Ctrl-] (virsh's escape character) ends the console, as does the VM no longer running on
this host (shut off, migrated away, its host gone): `ended` says so, `why` says why. The
terminal is raw, as virsh leaves it: the guest echoes what is typed and ends lines with
CR LF. The same object serves the emulated SSH servers (`sshd/console.py`) and the
embedded fleet in-process, so both paths answer alike.
"""

from __future__ import annotations

import time

from .fleet import Fleet
from .vm import PAUSED, RUNNING, Vm

ESCAPE = "\x1d"  # Ctrl-]
ESCAPE_NAME = "Ctrl-]"
CRLF = "\r\n"
COMMANDS = ("uptime", "free -m", "nproc", "hostname", "exit")
MAX_LINE = 256  # characters a line holds; more are dropped (a guest's tty has a limit too)


class ConsoleRefused(Exception):
    """virsh's error for a console it cannot open (the message without `error: `)."""


def connected_banner(vm: str) -> str:
    return f"Connected to domain '{vm}'{CRLF}Escape character is ^] (Ctrl + ]){CRLF}"


def _clock(seconds: float) -> str:
    return time.strftime("%H:%M:%S", time.gmtime(max(seconds, 0.0)))


def _uptime_words(seconds: float) -> str:
    """`3 days,  2:05` / `2:05` / `7 min`, as procps' uptime says it."""
    minutes = int(max(seconds, 0.0) // 60)
    days, minutes = divmod(minutes, 1440)
    hours, minutes = divmod(minutes, 60)
    text = f"{days} day{'s' if days != 1 else ''}, " if days else ""
    if hours:
        return text + f"{hours:2d}:{minutes:02d}"
    return text + f"{minutes} min"


def uptime(vm: Vm, now: float) -> str:
    load = vm.vcpus * vm.cpu_util
    started = vm.started_at if vm.started_at is not None else now
    return (
        f" {_clock(now)} up {_uptime_words(now - started)},  1 user,  "
        f"load average: {load:.2f}, {load:.2f}, {load:.2f}"
    )


def free_m(vm: Vm) -> str:
    """The guest's memory in MiB: its size from the fleet; the guest uses a base of 15 %
    and half of its memory more at full CPU (the emulator models no page cache)."""
    total = vm.memory_mib
    used = min(total, int(total * (0.15 + 0.5 * vm.cpu_util)))
    cache = min(total - used, total // 10)
    free = total - used - cache
    head = f"{'':14} {'total':>11} {'used':>11} {'free':>11} {'shared':>11} {'buff/cache':>11} "
    head += f"{'available':>11}"
    mem = f"{'Mem:':14} {total:>11} {used:>11} {free:>11} {0:>11} {cache:>11} {free + cache:>11}"
    swap = f"{'Swap:':14} {0:>11} {0:>11} {0:>11}"
    return CRLF.join((head, mem, swap))


class SerialConsole:
    """One `virsh console VM` session on emulated host `host` (see the module's doc)."""

    def __init__(self, fleet: Fleet, host: str, vm: str) -> None:
        self.fleet = fleet
        self.host = host
        self.vm = vm
        self.ended = False
        self.why = ""
        self._mode = "login"  # login, password, shell
        self._user = ""
        self._line: list[str] = []
        self._escape_seq = ""  # a terminal's escape sequence being swallowed (arrow keys)
        self._typed_while_paused = ""

    # --- opening and ending ----------------------------------------------------------------

    def _guest(self) -> Vm | None:
        """The VM while it runs (or is paused) on this host, else None."""
        v = self.fleet.vms.get(self.vm)
        if v is None or v.host != self.host or v.state not in (RUNNING, PAUSED):
            return None
        h = self.fleet.hosts.get(self.host)
        if h is None or h.state != "up" or h.partitioned:
            return None
        return v

    def open(self) -> str:
        """What virsh prints on connecting, then the guest's login prompt."""
        v = self.fleet.vms.get(self.vm)
        if v is None or v.host != self.host:
            raise ConsoleRefused(f"failed to get domain '{self.vm}'")
        if self._guest() is None:
            raise ConsoleRefused("The domain is not running")
        return connected_banner(self.vm) + CRLF + self._login_prompt()

    def check(self) -> str:
        """End the console when the VM stopped running here; what that prints. A paused
        guest answers nothing: what was typed meanwhile is answered once it resumes."""
        if self.ended:
            return ""
        v = self._guest()
        if v is None:
            return self._end("the VM is no longer running on this host")
        if self._typed_while_paused and v.state == RUNNING:
            typed, self._typed_while_paused = self._typed_while_paused, ""
            return "".join(self._key(char) for char in typed)
        return ""

    def _end(self, why: str) -> str:
        self.ended = True
        self.why = why
        return CRLF

    # --- what the operator types -------------------------------------------------------------

    def feed(self, text: str) -> str:
        out: list[str] = []
        for char in text:
            if self.ended:
                break
            if char == ESCAPE:
                out.append(self._end("the escape character was typed"))
                break
            v = self._guest()
            if v is not None and v.state == PAUSED:
                self._typed_while_paused += char
            else:
                out.append(self._key(char))
        out.append(self.check())
        return "".join(out)

    def _key(self, char: str) -> str:
        if self._escape_seq or char == "\x1b":  # ESC [ ... final byte: ignored
            self._escape_seq += char
            ended = len(self._escape_seq) > 1 and (char.isalpha() or char == "~")
            if ended or len(self._escape_seq) > 16:
                self._escape_seq = ""
            return ""
        if char in "\r\n":
            typed = "".join(self._line)
            self._line.clear()
            return CRLF + self._enter(typed)
        if char in "\x7f\x08":
            if self._line:
                self._line.pop()
                return "" if self._mode == "password" else "\b \b"
            return ""
        if char == "\x03":  # Ctrl-C: the line is dropped
            self._line.clear()
            return "^C" + CRLF + self._prompt()
        if char == "\x04" and not self._line:  # Ctrl-D on an empty line
            return self._enter("exit") if self._mode == "shell" else ""
        if not char.isprintable() or len(self._line) >= MAX_LINE:
            return ""
        self._line.append(char)
        return "" if self._mode == "password" else char

    def _prompt(self) -> str:
        if self._mode == "login":
            return self._login_prompt()
        if self._mode == "password":
            return "Password: "
        sign = "#" if self._user == "root" else "$"
        return f"{self._user}@{self.vm}:~{sign} "

    def _login_prompt(self) -> str:
        return f"{self.vm} login: "

    def _enter(self, typed: str) -> str:
        if self._mode == "login":
            self._user = typed.strip()
            if not self._user:
                return self._login_prompt()
            self._mode = "password"
            return self._prompt()
        if self._mode == "password":
            self._mode = "shell"
            motd = (
                f"Emulated guest {self.vm} on {self.host} (vdctui emulator). "
                f"It answers: {', '.join(COMMANDS)}."
            )
            return motd + CRLF + self._prompt()
        return self._run(typed.strip())

    def _run(self, command: str) -> str:
        v = self._guest()
        if v is None:
            return ""  # check() ends the console
        words = command.split()
        if not words:
            answer = None
        elif words == ["uptime"]:
            answer = uptime(v, self.fleet.now)
        elif words[0] == "free":
            answer = free_m(v)
        elif words == ["nproc"]:
            answer = str(v.vcpus)
        elif words == ["hostname"]:
            answer = v.name
        elif words[0] in ("exit", "logout"):
            self._mode = "login"
            self._user = ""
            return "logout" + CRLF + CRLF + self._login_prompt()
        else:
            answer = f"-bash: {words[0]}: command not found"
        return (answer + CRLF if answer is not None else "") + self._prompt()
