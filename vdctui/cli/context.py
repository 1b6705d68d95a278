"""What every subcommand shares: where the data center is, who is asking, how to print."""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from vdctui.cli.output import forget_note, hold_note, say, say_held_note
from vdctui.escape import for_terminal
from vdctui.fleet_lock import BackendError
from vdctui.ops.errors import Failed, NotAllowed, Refused
from vdctui.store import StoreError
from vdctui.store_reads import explain_for, open_reader

if TYPE_CHECKING:
    from vdctui.ops import Console
    from vdctui.ops.actions import Action
    from vdctui.ops.identity import Identity
    from vdctui.ops.reads import FleetReads

T = TypeVar("T")


@dataclass
class CliContext:
    db: Path
    read_only: bool
    as_json: bool
    inventory: Path | None = None  # the SSH backend's inventory file, else the embedded fleet
    noted: bool = False  # the identity's note (a lowered role) was said

    def require(self, action: Action, target: str, params: dict[str, Any] | None = None) -> None:
        """Before a changing command does anything (asks, plans, starts a task): exit 1
        with one sentence, audited, when this user's role does not allow `action`."""

        async def check(console: Console) -> None:
            console.require(action, target, params)

        self.run(check, sync=False, fleet=False)

    def read(self, body: Callable[[FleetReads], T]) -> T:
        """A command that reads the store alone (what the last sync saw). While another
        process holds the embedded fleet, or the store is not this user's to write, it
        reads the store in this process without an event loop, a driver or the ops
        services (vdctui.store_reads): most of what such a read waits for is its start-up.
        Otherwise it opens the console, which syncs with the fleet first: `run(reads=True)`."""
        if self.inventory is None:
            reader = self._outcome(lambda: open_reader(self.db, read_only=self.read_only))
            if reader is not None:

                def session() -> T:
                    try:
                        self._note(reader.identity)
                        return body(reader)
                    finally:
                        reader.close()

                return self._outcome(session)

        async def in_console(console: Console) -> T:
            return body(console)

        return self.run(in_console, reads=True)

    def run(
        self,
        body: Callable[[Console], Awaitable[T]],
        *,
        sync: bool = True,
        fleet: bool = True,
        reads: bool = False,
        shares: bool = True,
    ) -> T:
        """Open the console, sync it with the fleet, run `body`, close; errors exit 1.
        `fleet=False`: the store alone (roles, records), without the fleet or its lock.
        `reads`: `body` reads the store alone, so while another process holds the embedded
        fleet it reads what the store holds (with its age). Otherwise (`shares`, always)
        what `body` asks of the fleet, a change or a read of a host, is carried out by
        the process that holds the embedded fleet, if another one does: no command waits
        for the fleet's lock (vdctui.fleet_sharing, vdctui.ops.handover)."""
        import asyncio

        from vdctui.backend import open_console, store_console
        from vdctui.backend_ssh import open_ssh_console
        from vdctui.drivers.base import DriverError

        async def session() -> T:
            if not fleet:
                console = store_console(self.db, read_only=self.read_only)
            elif self.inventory is not None:
                console = await open_ssh_console(self.db, self.inventory, read_only=self.read_only)
            else:
                console = await open_console(
                    self.db, read_only=self.read_only, reads=reads, shares=shares and not reads
                )
            self._note(console.identity)
            try:
                if sync:
                    await console.sync()
                return await body(console)
            finally:
                await console.close()

        return self._outcome(lambda: asyncio.run(session()), (DriverError,))

    def _note(self, identity: Identity) -> None:
        """The identity's note (a lowered role, the store followed), held to be said
        before what the command says; once per process."""
        if identity.notes and not self.noted:
            self.noted = True
            why_viewer = f"vdctui: {identity.note}" if identity.note else ""
            hold_note(f"vdctui: {identity.notes}", if_refused=why_viewer)

    def _outcome(self, call: Callable[[], T], errors: tuple[type[Exception], ...] = ()) -> T:
        """`call()`'s result; a refusal, an error of ours (or one of `errors`) exits 1
        with one sentence."""
        try:
            done = call()
        except NotAllowed as exc:  # refused before anything was asked: one sentence
            say_held_note(refused_by_role=True)
            fail(str(exc))
        except (Refused, Failed, BackendError, StoreError) as exc:
            fail(str(exc))
        except errors as exc:  # () catches nothing
            fail(str(exc))
        except (sqlite3.Error, OSError) as exc:  # the store's or the fleet's file
            fail(explain_for(self.db)(exc))
        except KeyboardInterrupt:
            say_held_note()
            click.echo("vdctui: interrupted.", err=True)
            sys.exit(130)
        else:
            say_held_note()
            return done
        finally:
            forget_note()  # not left for the next command run in this process


def fail(message: str) -> NoReturn:
    """One sentence on stderr and exit code 1: the request was refused or failed."""
    say(f"vdctui: {message}", err=True)
    sys.exit(1)


def confirm(question: str) -> None:
    """Ask at a terminal; a script must say --yes (exit 1 otherwise)."""
    if not sys.stdin.isatty():
        fail(f"{question.rstrip('?')} needs confirmation: add --yes when not at a terminal.")
    click.confirm(question, abort=True, err=True)


pass_cli = click.make_pass_decorator(CliContext)


def progress_line(text: str | None) -> None:
    """Redraw one status line on stderr (a terminal), or print it (a log); None ends it."""
    tty = sys.stderr.isatty()
    if text is None:
        if tty:
            click.echo("", err=True)
    elif tty:
        say_held_note()
        click.echo(
            f"\r\x1b[K{for_terminal(text)}", nl=False, err=True
        )  # clear the old line, then draw
    else:
        say(text, err=True)
