"""The pool's algorithm preferences and per-pool key loading; the emulator's write coalescing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import asyncssh
import pytest

import emulator
from tests.ssh.served import Served, serve
from vdctui.drivers.ssh import HostKeyBook
from vdctui.drivers.ssh.hostkeys import NO_KNOWN_HOSTS
from vdctui.drivers.ssh.pool import ConnectionPool


@pytest.fixture
async def served() -> AsyncIterator[Served]:
    result = await serve(emulator.build_demo(seed=5, hosts=3, vms=6))
    yield result
    await result.close()


async def test_preferred_algorithms_are_negotiated_and_the_key_is_read_once(served: Served) -> None:
    pool = ConnectionPool(served.inventory, HostKeyBook(served.inventory.known_hosts))
    try:
        for host in served.inventory.hosts:
            out = await pool.run(host, "virsh -q list --all --name")
            assert out.status == 0
            conn = await pool.connection(host)
            assert conn.get_extra_info("send_cipher") == "aes128-gcm@openssh.com"
            assert conn.get_extra_info("recv_cipher") == "aes128-gcm@openssh.com"
            # the kex and host key choice are not exposed; the server's key is ed25519
            assert conn.get_extra_info("send_compression") == "none"
        assert len(pool._keys) == 1  # one identity file, loaded once for every host
    finally:
        await pool.close()


def test_preferences_reorder_asyncssh_defaults_and_yield_to_ssh_config(
    served: Served, tmp_path: Path
) -> None:
    host = served.inventory.hosts[0]
    pool = ConnectionPool(served.inventory, HostKeyBook(served.inventory.known_hosts))
    options = pool._options(host.address, None)
    # ours first, then every default after them (asyncssh's `^`, expanded once): nothing
    # is removed
    defaults = asyncssh.SSHClientConnectionOptions(known_hosts=NO_KNOWN_HOSTS, config=[])
    assert options["kex_algs"][:2] == ["curve25519-sha256", "curve25519-sha256@libssh.org"]
    assert options["encryption_algs"][:2] == ["aes128-gcm@openssh.com", "aes256-gcm@openssh.com"]
    for name, default in (
        ("kex_algs", defaults.kex_algs),
        ("encryption_algs", defaults.encryption_algs),
    ):
        assert sorted(options[name]) == sorted(alg.decode() for alg in default)
    assert options["server_host_key_algs"][0] == "ssh-ed25519"

    config = tmp_path / "ssh_config"
    config.write_text(
        "Host *\n  Ciphers chacha20-poly1305@openssh.com\n"
        "  KexAlgorithms=sntrup761x25519-sha512@openssh.com\n"
    )
    configured = ConnectionPool(
        replace(served.inventory, ssh_config=config), HostKeyBook(served.inventory.known_hosts)
    )
    options = configured._options(host.address, None)
    assert "kex_algs" not in options and "encryption_algs" not in options
    assert options["server_host_key_algs"][0] == "ssh-ed25519"


async def test_what_ssh_config_sets_is_what_is_negotiated(served: Served, tmp_path: Path) -> None:
    config = tmp_path / "ssh_config"
    config.write_text("Ciphers aes256-ctr\n")
    inventory = replace(served.inventory, ssh_config=config)
    pool = ConnectionPool(inventory, HostKeyBook(inventory.known_hosts))
    try:
        host = inventory.hosts[0]
        assert (await pool.run(host, "virsh -q list --all --name")).status == 0
        conn = await pool.connection(host)
        assert conn.get_extra_info("send_cipher") == "aes256-ctr"
    finally:
        await pool.close()


async def test_a_bad_identity_file_is_a_clear_error_each_time(
    served: Served, tmp_path: Path
) -> None:
    bad = tmp_path / "not_a_key"
    bad.write_text("garbage\n")
    inventory = replace(served.inventory, identity=bad)
    pool = ConnectionPool(inventory, HostKeyBook(inventory.known_hosts))
    try:
        for _ in range(2):  # a failed load is not cached as a success
            with pytest.raises(Exception, match="(?i)key"):
                await pool.run(inventory.hosts[0], "virsh -q list --all --name")
            pool._links.clear()
        assert not pool._keys
    finally:
        await pool.close()


async def test_a_refresh_is_one_ask_per_host_however_long_the_poll_takes(
    served: Served,
) -> None:
    """list_hosts then list_vms (a sync's refresh) polls each host once, also when
    polling them all took longer than `reuse_s` (a big fleet, a loaded machine): here
    reuse_s is 0.05 s and each poll is held 0.1 s. The first refresh opens one virsh on
    each host (one exec there, the process probe before it) and asks it the poll (and
    the VMs' interfaces); every refresh after is one line asked of it per host: no exec."""
    from vdctui.drivers.ssh import SshDriver

    driver = SshDriver(served.inventory, HostKeyBook(served.inventory.known_hosts), reuse_s=0.05)
    read = driver.reader.read

    async def slow_read(inv):  # type: ignore[no-untyped-def]
        snapshot = await read(inv)
        await asyncio.sleep(0.1)
        return snapshot

    driver.reader.read = slow_read  # type: ignore[method-assign]
    hosts = len(served.inventory.hosts)
    sessions = driver.reader.sessions
    try:
        before = served.server.stats.execs
        await driver.list_hosts()
        await driver.list_vms()
        assert driver.pool.execs_done == 0 and served.server.stats.execs == before + hosts
        assert hosts <= sessions.asks <= 2 * hosts  # the poll, the interfaces of new VMs
        for _ in range(2):
            asked = sessions.asks
            await driver.list_hosts()
            await driver.list_vms()
            assert sessions.asks == asked + hosts
            assert driver.pool.execs_done == 0 and served.server.stats.execs == before + hosts
    finally:
        await driver.close()


async def test_no_ignore_packets_either_way(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    """asyncssh sends an empty MSG_IGNORE before every packet after the key exchange (a
    CBC countermeasure); on AES-GCM the console does not, nor does the emulated sshd
    (OpenSSH sends none): a command is half the packets it was."""
    import asyncssh.connection as ssh_connection
    from asyncssh.constants import MSG_IGNORE

    ignored = {"client": 0, "server": 0}
    handle = ssh_connection.SSHConnection._packet_handlers[MSG_IGNORE]

    def counting(conn, *args):  # type: ignore[no-untyped-def]
        # a packet one side received came from the other
        side = "server" if isinstance(conn, ssh_connection.SSHClientConnection) else "client"
        ignored[side] += 1
        return handle(conn, *args)

    monkeypatch.setitem(ssh_connection.SSHConnection._packet_handlers, MSG_IGNORE, counting)
    pool = ConnectionPool(served.inventory, HostKeyBook(served.inventory.known_hosts))
    try:
        for host in served.inventory.hosts:
            assert (await pool.run(host, "virsh -q list --all --name")).status == 0
        assert pool.execs_done == len(served.inventory.hosts)
        assert ignored == {"client": 0, "server": 0}
    finally:
        await pool.close()


def test_ignore_packets_stay_on_a_cbc_cipher() -> None:
    """Where the cipher negotiated is a CBC one, the ignore packets protect the next
    IV: they are sent as asyncssh would."""
    from asyncssh.constants import MSG_CHANNEL_DATA, MSG_IGNORE

    from wire.ignore_packets import drop_ignore_packets

    class Conn:
        def __init__(self, cipher: str) -> None:
            self.cipher = cipher
            self.sent: list[int] = []

        def send_packet(self, pkttype: int, *args: bytes) -> None:
            self.sent.append(pkttype)

        def get_extra_info(self, name: str, default: object = None) -> object:
            return self.cipher if name == "send_cipher" else default

    for cipher, kept in (("aes128-cbc", True), ("aes128-gcm@openssh.com", False)):
        conn = Conn(cipher)
        drop_ignore_packets(conn)  # type: ignore[arg-type]
        conn.send_packet(MSG_IGNORE, b"")
        conn.send_packet(MSG_CHANNEL_DATA, b"x")
        assert conn.sent == ([MSG_IGNORE] if kept else []) + [MSG_CHANNEL_DATA]


async def test_a_poll_is_timed_from_when_its_host_is_connected(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cold refresh of a big fleet waits its turn to connect (handshakes go in waves):
    the moment a poll's figures were taken is after that wait, not half-way through it,
    or the VMs' CPU % and the hosts' clocks are measured over the wrong interval (the
    second refresh of 2,000 hosts probed ~half of them again for a clock skew that was
    this)."""
    import time

    from vdctui.drivers.ssh import SshDriver

    connected: dict[str, float] = {}
    connect = ConnectionPool._connect

    async def slow_connect(self, name, *args):  # type: ignore[no-untyped-def]
        await asyncio.sleep(0.5)  # waiting for a handshake slot
        conn = await connect(self, name, *args)
        connected[name] = time.monotonic()
        return conn

    monkeypatch.setattr(ConnectionPool, "_connect", slow_connect)
    driver = SshDriver(served.inventory, HostKeyBook(served.inventory.known_hosts))
    try:
        await driver.list_vms()
        samples = driver.reader.cpu._base
        assert samples  # the running VMs' first cpu.time samples
        for key, sample in samples.items():
            assert sample.at >= connected[key.split("/")[0]]
    finally:
        await driver.close()
