"""Host key checking: known_hosts plus the keys the operator trusted in the console.

A key found in known_hosts or trusted for that host is accepted. A host with
no key on record is refused as *unknown* (the message has the fingerprint and
the `vdctui host trust NAME` hint). A host whose key on record differs from
the one it presents is refused as *changed*, always: trusting does not
override it.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import asyncssh

from vdctui.drivers.base import HostUnreachable
from vdctui.drivers.ssh.connecting import quiet_logs
from vdctui.drivers.ssh.signed_auth import sign_at_once
from wire.coalescing import coalesce
from wire.ignore_packets import drop_ignore_packets

SSH_PORT = 22


class Verdict(enum.StrEnum):
    KNOWN = "known"
    UNKNOWN = "unknown"
    CHANGED = "changed"
    REVOKED = "revoked"


def fingerprint(key: asyncssh.SSHKey) -> str:
    return str(key.get_fingerprint("sha256"))


def public_text(key: asyncssh.SSHKey) -> str:
    """The key as one OpenSSH public key line without a comment: `ssh-ed25519 AAAA...`."""
    algorithm, data = key.export_public_key("openssh").decode().split()[:2]
    return f"{algorithm} {data}"


class HostKeyRefused(HostUnreachable):
    """The host's key is not trusted (unknown) or not the one on record (changed)."""

    def __init__(self, host: str, verdict: Verdict, key: asyncssh.SSHKey) -> None:
        self.host = host
        self.verdict = verdict
        self.key = key
        self.fingerprint = fingerprint(key)
        if verdict is Verdict.UNKNOWN:
            message = (
                f"Host {host} presented an unknown host key {self.fingerprint}; "
                f"check it and run `vdctui host trust {host}` to accept it."
            )
        elif verdict is Verdict.REVOKED:
            message = f"Host {host} presented a revoked host key {self.fingerprint}; refused."
        else:
            message = (
                f"Host {host} presented a CHANGED host key {self.fingerprint}, not the "
                "one on record; refused (someone may be impersonating it)."
            )
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class Check:
    verdict: Verdict
    key: asyncssh.SSHKey


class HostKeyBook:
    """What keys each host may present: from a known_hosts file and trusted keys.

    `trusted(name)` returns the OpenSSH public key lines the console trusts for
    the inventory host `name` (from its store).
    """

    def __init__(
        self, known_hosts: Path | None = None, trusted: Callable[[str], Sequence[str]] | None = None
    ) -> None:
        self.known_hosts_path = known_hosts
        self._trusted = trusted or (lambda name: ())
        self._known: asyncssh.SSHKnownHosts | None = None
        if known_hosts is not None and known_hosts.exists():
            try:
                self._known = asyncssh.read_known_hosts(str(known_hosts))
            except (OSError, ValueError) as exc:
                raise ValueError(f"Cannot read known_hosts {known_hosts}: {exc}.") from None

    def check(
        self, name: str, host: str, addr: str, port: int | None, key: asyncssh.SSHKey
    ) -> Check:
        presented = public_text(key)
        on_record: list[str] = []
        revoked: list[str] = []
        if self._known is not None:
            match = self._known.match(host, addr, None if port in (None, SSH_PORT) else port)
            on_record += [public_text(k) for k in match[0]]
            revoked += [public_text(k) for k in match[2]]
        if presented in revoked:
            return Check(Verdict.REVOKED, key)
        trusted = list(self._trusted(name))
        if presented in on_record or presented in trusted:
            return Check(Verdict.KNOWN, key)
        if on_record or trusted:
            return Check(Verdict.CHANGED, key)
        return Check(Verdict.UNKNOWN, key)


class CheckingClient(asyncssh.SSHClient):
    """An asyncssh client that asks a HostKeyBook and remembers why it refused."""

    def __init__(self, book: HostKeyBook, name: str, *, accept_any: bool = False) -> None:
        self._book = book
        self._name = name
        self._accept_any = accept_any
        self.check: Check | None = None

    def connection_made(self, conn: asyncssh.SSHClientConnection) -> None:
        drop_ignore_packets(conn)  # no empty MSG_IGNORE before each packet (`wire.ignore_packets`)
        sign_at_once(conn)  # the signed public key request first (`signed_auth`)
        coalesce(conn)  # one send() a burst (`wire.coalescing`)
        quiet_logs(conn)  # log messages formatted only where logged (`connecting`)

    def validate_host_public_key(
        self, host: str, addr: str, port: int, key: asyncssh.SSHKey
    ) -> bool:
        self.check = self._book.check(self._name, host, addr, port, key)
        return self._accept_any or self.check.verdict is Verdict.KNOWN

    def refusal(self) -> HostKeyRefused | None:
        if self.check is None or self.check.verdict is Verdict.KNOWN:
            return None
        return HostKeyRefused(self._name, self.check.verdict, self.check.key)


# known_hosts for asyncssh that holds nothing: every key goes to validate_host_public_key
NO_KNOWN_HOSTS: tuple[list[asyncssh.SSHKey], list[asyncssh.SSHKey], list[asyncssh.SSHKey]] = (
    [],
    [],
    [],
)
