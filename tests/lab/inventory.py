"""The lab as an inventory TOML that `vdctui --inventory` uses as is."""

from __future__ import annotations

from pathlib import Path

from tests.lab.hosts import host_ip
from tests.lab.lab import Lab

MIGRATION_KINDS = ("p2p", "direct")


def inventory_text(lab: Lab, migration: str | list[str] = "p2p") -> str:
    """Hosts labh1..labhN, the lab's known_hosts and client key; `migration` per host."""
    hosts = lab.hosts()
    kinds = [migration] * len(hosts) if isinstance(migration, str) else list(migration)
    for kind in kinds:
        if kind not in MIGRATION_KINDS:
            raise ValueError(f"migration is one of {', '.join(MIGRATION_KINDS)}, not {kind!r}")
    lines = [
        "# written by `python -m tests.lab up`: the lab's hosts (see tests/lab)",
        f'known_hosts = "{lab.known_hosts}"',
        f'identity = "{lab.client_key}"',
        "",
    ]
    for host, kind in zip(hosts, kinds, strict=True):
        lines += [
            "[[hosts]]",
            f'name = "{host.name}"',
            'site = "lab"',
            'room = "lab"',
            f'rack = "lab-r{1 + (host.number - 1) // 2}"',
            f'address = "root@{host_ip(host.number)}"',
            f'migration = "{kind}"',
            "",
        ]
    return "\n".join(lines)


def write_inventory(lab: Lab, path: Path, migration: str | list[str] = "p2p") -> Path:
    path.write_text(inventory_text(lab, migration))
    return path
