"""SSH host keys the operator trusted, by inventory host name (schema migration 3)."""

from __future__ import annotations

from dataclasses import dataclass

from vdctui.store.store import Store


@dataclass(frozen=True, slots=True)
class TrustedKey:
    host: str
    key: str  # one OpenSSH public key: "ssh-ed25519 AAAA..."
    fingerprint: str
    address: str
    trusted_at: float
    actor: str


class TrustedHostKeys:
    """Read and add trusted host keys in a console's store."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def keys_for(self, host: str) -> list[str]:
        rows = self._store._db.execute(
            "SELECT key FROM trusted_host_keys WHERE host = ? ORDER BY trusted_at", [host]
        )
        return [row[0] for row in rows.fetchall()]

    def all(self) -> list[TrustedKey]:
        rows = self._store._db.execute(
            "SELECT host, key, fingerprint, address, trusted_at, actor FROM trusted_host_keys "
            "ORDER BY host, trusted_at"
        )
        return [TrustedKey(*row) for row in rows.fetchall()]

    def trust(
        self, host: str, key: str, fingerprint: str, address: str, actor: str, now: float
    ) -> None:
        with self._store._db.atomic():
            self._store._db.execute(
                "INSERT OR IGNORE INTO trusted_host_keys "
                "(host, key, fingerprint, address, trusted_at, actor) VALUES (?, ?, ?, ?, ?, ?)",
                [host, key, fingerprint, address, now, actor],
            )
