"""Where the console gets real hosts: an inventory file's hosts over SSH, and trusting
their keys. The embedded data center's side is `vdctui.backend`."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from vdctui.backend import (
    BackendError,
    following_the_store,
    identity_for,
    open_store,
    store_console,
)
from vdctui.ops import Console, Refused
from vdctui.ops.actions import Action


async def open_ssh_console(db: Path, inventory: Path, *, read_only: bool = False) -> Console:
    """The console over the hosts of an inventory file, reached over SSH (for the CLI)."""
    return ssh_console(db, inventory, read_only=read_only)


def ssh_console(db: Path, inventory: Path, *, read_only: bool = False) -> Console:
    """The console over the hosts of an inventory file; it connects on its first sync.

    Host keys are checked against the inventory's known_hosts and the keys
    trusted in the store (`vdctui host trust`); every refused key is audited.
    """
    from vdctui.drivers.ssh import InventoryError
    from vdctui.drivers.ssh import load_inventory as load

    try:
        parsed = load(inventory)
    except InventoryError as exc:
        raise BackendError(str(exc)) from None
    store = open_store(db)
    try:
        identity = identity_for(store, read_only=read_only)
    except BackendError:
        store.close()
        raise
    holder: list[Console] = []
    try:
        driver = _driver(db, parsed, store, holder)
    except BackendError:
        store.close()
        raise
    if parsed.warnings:  # shown as the identity's note: on stderr, in the TUI as a warning
        identity = replace(identity, note=" ".join((identity.note, *parsed.warnings)).strip())
    console = Console(store, driver, identity)
    holder.append(console)
    return console if store.writable else following_the_store(console, "")


def _driver(db: Path, parsed: Any, store: Any, holder: list[Console]) -> Any:
    """An SshDriver over `parsed` whose refused host keys are audited by holder[0]."""
    from vdctui.drivers.ssh import HostKeyBook, HostKeyRefused, SshDriver
    from vdctui.store.hostkeys import TrustedHostKeys

    trusted = TrustedHostKeys(store)
    try:
        book = HostKeyBook(parsed.known_hosts, trusted=trusted.keys_for)
    except ValueError as exc:
        raise BackendError(str(exc)) from None
    audited: set[tuple[str, str]] = set()

    def refused(exc: Exception) -> None:
        if not isinstance(exc, HostKeyRefused) or (exc.host, exc.fingerprint) in audited:
            return
        audited.add((exc.host, exc.fingerprint))
        holder[0].record_audit(
            Action.host_key(exc.verdict),
            exc.host,
            {"fingerprint": exc.fingerprint},
            "refused",
            str(exc),
        )

    # VM definitions kept for HA restarts, beside the db (hosts with a BMC only)
    definitions = db.parent / f"{db.name}.definitions"
    return SshDriver(parsed, book, on_refused=refused, definitions=definitions)


async def reload_inventory(console: Console) -> list[str]:
    """Read the inventory file of an SSH console again (`:reload`): hosts added to it are
    managed from now on, their keys checked as any other. Returns the hosts added."""
    from vdctui.drivers.ssh import InventoryError, SshDriver
    from vdctui.drivers.ssh import load_inventory as load

    old = console.driver
    if not isinstance(old, SshDriver):
        raise Refused("Only a console over an inventory (--inventory) reads it again.")
    try:
        parsed = load(old.inventory.path)
    except InventoryError as exc:
        raise Refused(str(exc)) from None
    try:
        driver = _driver(Path(console.store.path), parsed, console.store, [console])
    except BackendError as exc:
        raise Refused(str(exc)) from None
    console.attach(driver)
    await old.close()
    await console.sync()
    before = {h.name for h in old.inventory.hosts}
    return [h.name for h in parsed.hosts if h.name not in before]


async def trust_host_key(
    db: Path,
    inventory_path: Path,
    name: str,
    *,
    read_only: bool,
    show: Callable[[str], None],
    ask: Callable[[str], None] | None,
) -> str:
    """Fetch host `name`'s SSH key, show its fingerprint, and (after `ask`, which raises to
    say no) trust it in the store; a changed key is refused. Every outcome is audited; the
    role is checked before the host is asked anything."""
    from vdctui.drivers.base import HostUnreachable
    from vdctui.drivers.ssh import HostKeyBook, InventoryError, Verdict, fingerprint
    from vdctui.drivers.ssh import load_inventory as load
    from vdctui.drivers.ssh.hostkeys import public_text
    from vdctui.drivers.ssh.pool import ConnectionPool
    from vdctui.store.hostkeys import TrustedHostKeys

    try:
        inventory = load(inventory_path)
    except InventoryError as exc:
        raise BackendError(str(exc)) from None
    host = inventory.host(name)
    if host is None:
        raise BackendError(f"There is no host named {name!r} in {inventory_path}.")
    console = store_console(db, read_only=read_only)
    try:
        console.require(Action.HOST_TRUST, name)
        trusted = TrustedHostKeys(console.store)
        try:
            book = HostKeyBook(inventory.known_hosts, trusted=trusted.keys_for)
        except ValueError as exc:
            raise BackendError(str(exc)) from None
        pool = ConnectionPool(inventory, book)
        try:
            check = await pool.host_key(host)
        except (HostUnreachable, BackendError) as exc:
            raise BackendError(str(exc)) from None
        finally:
            await pool.close()
        print_ = fingerprint(check.key)
        params = {"fingerprint": print_, "address": str(host.address)}
        if check.verdict is Verdict.KNOWN:
            return f"Host {name}'s key {print_} is already trusted."
        if check.verdict is not Verdict.UNKNOWN:
            message = (
                f"Host {name} presents a {check.verdict} key {print_}, not the one on "
                "record; refused (remove the old key from known_hosts if the host was "
                "really reinstalled)."
            )
            console.record_audit(Action.host_key(check.verdict), name, params, "refused", message)
            raise BackendError(message)
        show(f"Host {name} ({host.address}) presents {check.key.get_algorithm()} key {print_}.")
        if ask is not None:
            ask(f"Trust this key for host {name}?")

        async def work() -> None:
            trusted.trust(
                name,
                public_text(check.key),
                print_,
                str(host.address),
                console.identity.actor,
                time.time(),
            )

        await console.change(Action.HOST_TRUST, name, params, work)
        return f"Trusted host {name}'s key {print_}."
    except Refused as exc:
        raise BackendError(str(exc)) from None
    finally:
        console.store.close()
