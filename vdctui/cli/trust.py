"""`vdctui host trust NAME`: accept an SSH host's key after the operator checked it."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import click

from vdctui.cli.context import CliContext, confirm, fail, pass_cli


@click.command("trust")
@click.argument("name")
@click.option("--yes", "-y", is_flag=True, help="Trust without asking (scripts).")
@pass_cli
def trust(cli: CliContext, name: str, yes: bool) -> None:
    """Show host NAME's SSH key fingerprint and trust it (needs --inventory).

    A key that differs from the one on record is never trusted: remove the old
    one from known_hosts first if the host was really reinstalled.
    """
    if cli.inventory is None:
        fail("`host trust` needs --inventory FILE.toml (the embedded data center has no keys).")
    try:
        message = asyncio.run(_trust(cli.db, cli.inventory, name, cli.read_only, yes))
    except TrustRefused as exc:
        fail(str(exc))
    click.echo(message)


class TrustRefused(Exception):
    pass


async def _trust(db: Path, inventory_path: Path, name: str, read_only: bool, yes: bool) -> str:
    from vdctui.backend import BackendError
    from vdctui.drivers.base import HostUnreachable
    from vdctui.drivers.ssh import HostKeyBook, InventoryError, Verdict, fingerprint
    from vdctui.drivers.ssh import load_inventory as load
    from vdctui.drivers.ssh.hostkeys import public_text
    from vdctui.drivers.ssh.pool import ConnectionPool
    from vdctui.model import Role
    from vdctui.ops import Identity, Refused
    from vdctui.store import Store, StoreError
    from vdctui.store.hostkeys import TrustedHostKeys

    try:
        inventory = load(inventory_path)
        identity = Identity.from_environment(read_only=read_only)
    except (InventoryError, Refused) as exc:
        raise TrustRefused(str(exc)) from None
    host = inventory.host(name)
    if host is None:
        raise TrustRefused(f"There is no host named {name!r} in {inventory_path}.")
    try:
        store = Store(db)
    except StoreError as exc:
        raise TrustRefused(str(exc)) from None
    try:
        trusted = TrustedHostKeys(store)

        def audit(action: str, result: str, params: dict[str, str], error: str = "") -> None:
            store.append_audit(actor=identity.actor, role=identity.role, action=action,
                               target=name, params=params, result=result, error=error)

        if not identity.role.allows(Role.ADMIN):
            message = f"Trusting a host key needs the admin role; you are {identity.role}."
            audit("host.trust", "refused", {}, message)
            raise TrustRefused(message)
        try:
            book = HostKeyBook(inventory.known_hosts, trusted=trusted.keys_for)
        except ValueError as exc:
            raise TrustRefused(str(exc)) from None
        pool = ConnectionPool(inventory, book)
        try:
            check = await pool.host_key(host)
        except (HostUnreachable, BackendError) as exc:
            raise TrustRefused(str(exc)) from None
        finally:
            await pool.close()
        print_ = fingerprint(check.key)
        params = {"fingerprint": print_, "address": str(host.address)}
        if check.verdict is Verdict.KNOWN:
            return f"Host {name}'s key {print_} is already trusted."
        if check.verdict is not Verdict.UNKNOWN:
            message = (f"Host {name} presents a {check.verdict} key {print_}, not the one on "
                       "record; refused (remove the old key from known_hosts if the host was "
                       "really reinstalled).")
            audit(f"host.key-{check.verdict}", "refused", params, message)
            raise TrustRefused(message)
        click.echo(f"Host {name} ({host.address}) presents {check.key.get_algorithm()} key "
                   f"{print_}.", err=True)
        if not yes:
            confirm(f"Trust this key for host {name}?")
        trusted.trust(name, public_text(check.key), print_, str(host.address), identity.actor,
                      time.time())
        audit("host.trust", "ok", params)
        return f"Trusted host {name}'s key {print_}."
    finally:
        store.close()
