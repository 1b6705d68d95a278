"""The embedded fleet's lock: the process that holds it runs the fleet (see
vdctui.fleet_sharing for how the others share it)."""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path
from typing import IO

from vdctui.files import os_sentence

LOCK_POLL_S = 0.1
# What keeps the fleet until an operator closes it, written in the lock under the
# holder's pid; a command writes nothing (it gives the fleet back once done: worth
# waiting for).
KEEPERS = ("an open console", "vdctui emulate")


def _said(text: str) -> tuple[str, str]:
    """The lock file's two lines: who holds it ("vdctui pid N") and what keeps it, or ""."""
    lines = [line.strip() for line in text.strip().splitlines()] + ["", ""]
    return lines[0], lines[1]


class BackendError(Exception):
    """The data center could not be opened; one sentence."""


class FleetLock:
    """An exclusive advisory lock on a fleet file, released on close. `owner` is the
    file the operator named (the console's --db), which a refusal names. `keeps`: what
    keeps the fleet while this lock holds it (one of KEEPERS), or "" for a command."""

    def __init__(self, path: Path, owner: Path | None = None, keeps: str = "") -> None:
        if keeps and keeps not in KEEPERS:
            raise ValueError(f"{keeps!r} is none of {KEEPERS}")
        self.path = path.with_name(path.name + ".lock")
        self.owner = owner or path
        self.keeps = keeps
        self._file: IO[str] | None = None

    def holder(self) -> str:
        """Who wrote the lock file last ("vdctui pid N"), or "another process"."""
        return self._lines()[0][:80] or "another process"

    def keeper(self) -> str:
        """What keeps the fleet in the holding process until it is closed ("an open
        console"), or "" (a command that gives it back once done, or unknown)."""
        keeper = self._lines()[1]
        return keeper if keeper in KEEPERS else ""  # the file is not trusted to say more

    def _lines(self) -> tuple[str, str]:
        try:
            return _said(self.path.read_text())
        except (OSError, UnicodeDecodeError):
            return "", ""

    def held_by_another(self) -> bool:
        """Whether another process holds the lock now (False if the file cannot be read)."""
        try:
            with open(self.path) as handle:
                fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
                fcntl.flock(handle, fcntl.LOCK_UN)
        except BlockingIOError:
            return True
        except OSError:
            return False
        return False

    def acquire(self, wait_s: float = 0.0) -> None:
        """Take the lock; while another process holds it, try again for up to `wait_s`
        seconds (a changing command waits for another one to finish), then one sentence."""
        deadline = time.monotonic() + wait_s
        while True:
            try:
                return self._acquire(waited_s=wait_s)
            except BackendError:
                if time.monotonic() >= deadline or not self.held_by_another():
                    raise
            time.sleep(LOCK_POLL_S)

    def _acquire(self, waited_s: float) -> None:
        try:  # never world-readable; group-writable where the umask allows (see README)
            handle = os.fdopen(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o660), "a+")
        except OSError as exc:
            raise BackendError(os_sentence(exc, "lock the data center with")) from None
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = _said(handle.read())[0][:80] or "another process"
            handle.close()
            waited = f" (waited {waited_s:.0f} s)" if waited_s else ""
            raise BackendError(
                f"The data center {self.owner} is in use by {holder}{waited}; "
                "close that console or use another --db."
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"vdctui pid {os.getpid()}" + (f"\n{self.keeps}" if self.keeps else ""))
        handle.flush()
        self._file = handle

    def release(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
