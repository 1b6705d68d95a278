"""A connection's options copied from those prepared for a host like it equal what
asyncssh prepares for it (no ssh_config); with an ssh_config they are prepared anew."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import asyncssh
import pytest

from vdctui.drivers.ssh.connecting import preferred_algorithms
from vdctui.drivers.ssh.hostkeys import NO_KNOWN_HOSTS
from vdctui.drivers.ssh.prepared import PreparedOptions


def _comparable(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return [_comparable(v) for v in value]
    if isinstance(value, dict):
        return {k: _comparable(v) for k, v in value.items()}
    if hasattr(value, "public_data"):  # a key pair: asyncssh wraps it anew each time
        return ("key", value.public_data)
    if isinstance(value, asyncssh.config.SSHConfig):
        return ("config", _comparable(vars(value)))
    return value


def _options(tmp_path: Path, config: list[str]) -> dict[str, Any]:
    key = tmp_path / "id"
    if not key.exists():
        asyncssh.generate_private_key("ssh-ed25519").write_private_key(str(key))
    preferred = preferred_algorithms()
    return {
        "known_hosts": NO_KNOWN_HOSTS,
        "keepalive_interval": 15.0,
        "keepalive_count_max": 3,
        "connect_timeout": 10.0,
        "login_timeout": 10.0,
        "compression_algs": None,
        "kex_algs": preferred["kex_algs"],
        "encryption_algs": preferred["encryption_algs"],
        "server_host_key_algs": preferred["server_host_key_algs"],
        "config": config,
        "client_keys": asyncssh.load_keypairs(str(key)),
        "agent_path": None,
        "username": "root",
    }


async def test_copied_options_equal_what_asyncssh_prepares(tmp_path: Path) -> None:
    loop = asyncio.get_running_loop()
    shared = _options(tmp_path, [])
    tunnel = object()  # a bastion's connection
    prepared = PreparedOptions()
    for host, per_host in [
        ("10.0.0.1", {"port": 2201}),
        ("10.0.0.2", {"port": 2202}),
        ("h3.example", {}),
        ("10.0.0.4", {"port": 22, "tunnel": tunnel}),
        ("10.0.0.5", {"port": 2205}),
    ]:

        def client() -> asyncssh.SSHClient:
            return asyncssh.SSHClient()

        options = {**shared, **per_host}
        copied = prepared.for_connection(loop, host, client, options)
        fresh = asyncssh.SSHClientConnectionOptions(
            None, loop=loop, host=host, client_factory=client, **options
        )
        assert _comparable(vars(copied)) == _comparable(vars(fresh)), host
    assert len(prepared._templates) == 1


async def test_other_users_keys_or_settings_are_prepared_apart(tmp_path: Path) -> None:
    loop = asyncio.get_running_loop()
    prepared = PreparedOptions()
    shared = _options(tmp_path, [])
    for change in ({}, {"username": "admin"}, {"connect_timeout": 3.0}):
        options = {**shared, **change, "port": 2200}
        copied = prepared.for_connection(loop, "10.0.0.9", asyncssh.SSHClient, options)
        assert copied.username == options["username"]
        assert copied.connect_timeout == options["connect_timeout"]
    assert len(prepared._templates) == 3


async def test_with_an_ssh_config_every_connection_is_prepared_anew(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "ssh_config"
    config.write_text("Host web*\n  User deploy\n  Port 2222\n")
    loop = asyncio.get_running_loop()
    prepared = PreparedOptions()
    options = _options(tmp_path, [str(config)])
    del options["username"]
    web = prepared.for_connection(loop, "web1", asyncssh.SSHClient, options)
    db = prepared.for_connection(loop, "db1", asyncssh.SSHClient, options)
    assert (web.username, web.port) == ("deploy", 2222)
    assert db.port == 22 and db.username != "deploy"
    assert prepared._templates == {}
