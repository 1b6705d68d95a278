"""Which process a task belongs to, and whether that process is still there.

A task row records its owner: the host name, the pid and the process's start time
(from /proc, so a recycled pid is not taken for the process that started the task),
and a heartbeat the owner refreshes while it works (each progress write, each sync).
A task is an orphan, and only then may another process end it as interrupted, when
its owner is gone:

- on this machine: no process has its pid, or the one that has it started at
  another time (a recycled pid);
- on another machine (a db on a shared file system): its heartbeat is older than
  `REMOTE_SILENCE_S`;
- a row with no owner (written before owners were recorded): gone.

Within one process, a store that was closed (a console stopped, in tests) leaves
its tasks to the next one: each open `Store` is a session of its process, and a
task is alive only while the session that created it is open.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from vdctui.frozen import frozen

REMOTE_SILENCE_S = 300.0  # another machine's process that has not beaten for this long is gone

_OPEN_SESSIONS: set[str] = set()


def this_host() -> str:
    """This machine's name, as `socket.gethostname()` says it (the kernel's nodename),
    without importing socket for it (a CLI read opens a store and no socket)."""
    return os.uname().nodename


def process_started(pid: int) -> str | None:
    """When process `pid` started (clock ticks since boot, from /proc), or None when
    there is no such process; "" where /proc cannot say (then the pid alone counts)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            stat = handle.read().decode("ascii", "replace")
    except FileNotFoundError:
        return None
    except OSError:
        return _pid_exists(pid)
    fields = stat[stat.rfind(")") + 2 :].split()
    return fields[19] if len(fields) > 19 else ""


def _pid_exists(pid: int) -> str | None:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return ""
    return ""


@frozen
class Owner:
    """A process (and its store session) that runs tasks."""

    host: str
    pid: int
    started: str
    session: str

    @classmethod
    def this_process(cls) -> Owner:
        """This process, with a new session (one per open store)."""
        pid = os.getpid()
        return cls(this_host(), pid, process_started(pid) or "", os.urandom(8).hex())

    def open(self) -> None:
        _OPEN_SESSIONS.add(self.session)

    def close(self) -> None:
        _OPEN_SESSIONS.discard(self.session)


def alive(owner: Sequence[Any], now: float) -> bool:
    """Whether the process that owns a task is still there; `owner`: the row's
    (owner_host, owner_pid, owner_started, owner_session, heartbeat)."""
    host, pid, started, session, heartbeat = owner
    if host is None or pid is None:
        return False
    if host != this_host():
        return heartbeat is not None and now - heartbeat < REMOTE_SILENCE_S
    if pid == os.getpid():
        return session in _OPEN_SESSIONS
    now_started = process_started(pid)
    if now_started is None:
        return False
    return not (started and now_started and now_started != started)
