"""A read that follows the store: what the process that holds the embedded fleet (or
the last one that did) synced to it, with its age.

The console does this when it cannot have the fleet (vdctui.backend). A CLI read does
it here, in its own process, without an event loop, a driver or the ops services
(`StoreReader`): while another process holds the fleet, `vdctui vm list` is most of
all its interpreter's start-up, so it imports no more than the read needs."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TypeVar

from vdctui.files import FileProblem, check_db_path, explain, os_sentence
from vdctui.fleet_lock import BackendError, FleetLock
from vdctui.model import Host, Role
from vdctui.ops.errors import Refused
from vdctui.ops.identity import Identity
from vdctui.ops.reads import FleetReads
from vdctui.store import Store, StoreError

R = TypeVar("R", bound=FleetReads)


def fleet_path(db: Path) -> Path:
    """The emulated fleet's own file, beside the console's store."""
    return db.with_name(f"{db.stem}.fleet{db.suffix or '.db'}")


def explain_for(db: Path) -> Callable[[BaseException], str]:
    """One sentence for any error from the console's files at `db` (the store, the
    embedded fleet beside it): what the CLI prints and the TUI notifies."""
    return lambda exc: explain(exc, [db, fleet_path(db)])


def make_folder(db: Path) -> None:
    """The folder of the console's files, created 0770 less the umask (never world-open)."""
    try:
        check_db_path(db)
        db.parent.mkdir(mode=0o770, parents=True, exist_ok=True)  # less the umask
    except FileProblem as exc:
        raise BackendError(str(exc)) from None
    except OSError as exc:
        raise BackendError(os_sentence(exc, "create the folder")) from exc


def open_store(db: Path) -> Store:
    """The console's store at `db` (its folder created), or one sentence."""
    make_folder(db)
    try:
        return Store(db)
    except StoreError as exc:
        raise BackendError(str(exc)) from exc


def identity_for(store: Store, *, read_only: bool = False) -> Identity:
    """This process's OS user with the role the store gives it, lowered by `read_only`,
    $VDCTUI_ROLE, or a store file it cannot write."""
    try:
        return Identity.of_process(
            store.operator_role, read_only=read_only, writable=store.writable, where=store.path
        )
    except Refused as exc:
        raise BackendError(str(exc)) from exc


def following_the_store(console: R, holder: str, *, sharing: bool = False) -> R:
    """Make `console` follow the store (see `FleetReads.follow_store`), and say so once.
    `sharing`: its changes are carried out by the holder; otherwise it changes nothing
    (a role above viewer is lowered for this console)."""
    console.follow_store()
    seen = console.store_seen_at()
    age = "never synced" if seen is None else f"last synced {_age(time.time() - seen)} ago"
    showing = f"showing what the store holds ({age})"
    note = f"{holder} holds the data center: {showing}" if holder else showing.capitalize()
    identity = console.identity
    role = identity.role
    if sharing:  # and it takes the fleet over when that process is done
        note += "; it carries out your changes" if role is not Role.VIEWER else ""
    elif identity.role is not Role.VIEWER:  # a command that only reads: nothing to say
        role = Role.VIEWER
    note += "."
    console.identity = replace(identity, role=role, following=note)
    return console


def _age(seconds: float) -> str:
    seconds = max(seconds, 0.0)
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.0f} h"


class StoreReader(FleetReads):
    """The console's reads over the store alone, for one identity: no driver, no sync
    (what the store holds is what the holder last synced; its ages say how stale)."""

    def __init__(self, store: Store, identity: Identity) -> None:
        self.store = store
        self.identity = identity

    def unanswered(self) -> list[Host]:
        return []  # it syncs nothing: no host went unanswered here

    def close(self) -> None:
        self.store.close()


def open_reader(db: Path, *, read_only: bool = False) -> StoreReader | None:
    """A reader following the store at `db` when a read would follow it anyway: another
    process holds the embedded fleet, or the store is not this user's to write (see
    vdctui.backend.open_store_console, `reads`). None otherwise: the read opens the
    console, which holds the fleet and syncs with it first."""
    store = open_store(db)
    try:
        reader = StoreReader(store, identity_for(store, read_only=read_only))
        if not store.writable:
            return following_the_store(reader, "")
        lock = FleetLock(fleet_path(db), db)
        if lock.held_by_another():
            return following_the_store(reader, lock.holder())
    except BaseException:
        store.close()
        raise
    store.close()
    return None
