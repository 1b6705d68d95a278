"""The lab as an inventory TOML that `vdctui --inventory` uses as is."""

from __future__ import annotations

from pathlib import Path

from tests.lab.bmc import LabBmcs, system_id
from tests.lab.hosts import LabError, host_ip
from tests.lab.lab import Lab

MIGRATION_KINDS = ("p2p", "direct")


def inventory_text(lab: Lab, migration: str | list[str] = "p2p", *, bmc: bool = False) -> str:
    """Hosts labh1..labhN, the lab's known_hosts and client key; `migration` per host;
    `bmc`: each host's BMC keys (the lab must have been brought up with its BMCs)."""
    hosts = lab.hosts()
    kinds = [migration] * len(hosts) if isinstance(migration, str) else list(migration)
    for kind in kinds:
        if kind not in MIGRATION_KINDS:
            raise ValueError(f"migration is one of {', '.join(MIGRATION_KINDS)}, not {kind!r}")
    bmcs = LabBmcs.of(lab.state) if bmc else None
    if bmc and bmcs is None:
        raise LabError("This lab has no BMCs: bring it up with `up N --bmc`.")
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
        ]
        if bmcs is not None:
            lines += [
                f'bmc = "{bmcs.url}"',
                f'bmc_system = "{system_id(host.number)}"',
                f'bmc_user = "{bmcs.user}"',
                f'bmc_password_file = "{bmcs.password_file}"',
                f'bmc_ca = "{bmcs.ca}"',
            ]
        lines.append("")
    return "\n".join(lines)


def write_inventory(
    lab: Lab, path: Path, migration: str | list[str] = "p2p", *, bmc: bool = False
) -> Path:
    path.write_text(inventory_text(lab, migration, bmc=bmc))
    return path
