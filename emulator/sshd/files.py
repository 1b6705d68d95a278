"""What a console needs to reach emulated hosts: an inventory, a known_hosts file, a key.

`SshFiles(directory)` keeps the client key and the host keys there, so a
restarted emulator keeps its identities (and known_hosts stays valid).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import asyncssh

from ..fleet import Fleet
from ..redfish import USER as BMC_USER
from ..redfish import FleetRedfish
from .server import LOOPBACK, SSH_PORT, FleetSshServer, new_key


def _toml_str(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a valid TOML basic string


class SshFiles:
    """Keys kept in a directory: `client_key` and `host_keys/NAME`."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.client_key_path = directory / "client_key"
        self.known_hosts_path = directory / "known_hosts"

    def _key(self, path: Path) -> asyncssh.SSHKey:
        if path.exists():
            return asyncssh.read_private_key(str(path))
        private_folder(path.parent)
        key = new_key()
        try:
            write_private(path, key.export_private_key())
        except FileExistsError:  # another process made it first: use theirs
            return asyncssh.read_private_key(str(path))
        return key

    def client_key(self) -> asyncssh.SSHKey:
        key = self._key(self.client_key_path)
        pub = Path(f"{self.client_key_path}.pub")
        if not pub.exists():
            key.write_public_key(str(pub))
        return key

    def host_keys(self, names: list[str]) -> dict[str, asyncssh.SSHKey]:
        safe = {name: name.replace("/", "_") for name in names}
        return {name: self._key(self.directory / "host_keys" / safe[name]) for name in names}


def private_folder(folder: Path) -> None:
    """`folder` (and any missing parent) made 0700: keys live there."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    if folder.stat().st_mode & 0o077:
        folder.chmod(0o700)


def write_private(path: Path, data: bytes) -> None:
    """Write a new private file with mode 0600 from its first byte (os.open with the mode,
    never written at the umask's 0644 and chmod'ed after); an existing file is refused."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)


def known_hosts_line(host: str, port: int, key: asyncssh.SSHKey) -> str:
    pattern = host if port == SSH_PORT else f"[{host}]:{port}"
    return f"{pattern} {key.export_public_key().decode().strip()}\n"


def write_inventory(
    path: Path,
    fleet: Fleet,
    served: FleetSshServer,
    files: SshFiles,
    *,
    user: str = "vdctui",
    via_bastion: bool = False,
    bmcs: FleetRedfish | None = None,
) -> None:
    """An inventory TOML for the served hosts, with their known_hosts and the client key
    (and with `bmcs`, each host's Redfish BMC keys)."""
    lines = [
        "# Written by `vdctui emulate --serve-ssh`: emulated hosts on 127.0.0.1.",
        f"known_hosts = {_toml_str(str(files.known_hosts_path))}",
        f"identity = {_toml_str(str(files.client_key_path))}",
        "",
    ]
    known: list[str] = []
    bastion = served.bastion
    if via_bastion and bastion is not None:
        known.append(known_hosts_line(LOOPBACK, bastion.port, bastion.key))
    for name in sorted(served.endpoints):
        endpoint = served.endpoints[name]
        h = fleet.hosts[name]
        lines.append("[[hosts]]")
        lines.append(f"name = {_toml_str(name)}")
        lines.append(f"site = {_toml_str(h.site)}")
        lines.append(f"room = {_toml_str(h.room)}")
        lines.append(f"rack = {_toml_str(h.rack)}")
        lines.append(f"model = {_toml_str(h.model)}")
        lines.append(f"nic_gbps = {h.nic_gbps:g}")
        lines.append(f"reserved_cpus = {h.reserved_cpus}")
        lines.append(f"reserved_memory_mib = {h.reserved_memory_mib}")
        if via_bastion and bastion is not None:
            lines.append(f"address = {_toml_str(f'{user}@{name}')}")
            lines.append(f"jump = {_toml_str(f'{user}@{LOOPBACK}:{bastion.port}')}")
            known.append(known_hosts_line(name, SSH_PORT, endpoint.key))
        else:
            lines.append(f"address = {_toml_str(f'{user}@{LOOPBACK}:{endpoint.port}')}")
            known.append(known_hosts_line(LOOPBACK, endpoint.port, endpoint.key))
        if bmcs is not None and name in bmcs.endpoints:
            lines.append(f"bmc = {_toml_str(f'https://{LOOPBACK}:{bmcs.endpoints[name]}')}")
            lines.append(f"bmc_user = {_toml_str(BMC_USER)}")
            lines.append(f"bmc_password_file = {_toml_str(str(bmcs.files.password_file))}")
            lines.append(f"bmc_ca = {_toml_str(str(bmcs.files.ca))}")
        lines.append("")
    # whole or not at all, the known_hosts first: a reader that waits for the inventory
    # (bench/ssh_fanout.py, a console started beside) finds both complete
    _write_whole(files.known_hosts_path, "".join(known))
    _write_whole(path, "\n".join(lines))


def _write_whole(path: Path, text: str) -> None:
    """`text` in `path`, which readers see whole: written beside it, then renamed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)
