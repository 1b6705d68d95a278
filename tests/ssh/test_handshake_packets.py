"""What a connection costs on the wire: the login in one signed request, one send() a
burst each way, a command's output in one packet a turn, no per-connection thread."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import asyncssh
import asyncssh.channel as ssh_channel
import asyncssh.connection as ssh_connection
import pytest
from asyncssh.constants import MSG_CHANNEL_DATA, MSG_USERAUTH_REQUEST

import emulator
from emulator.sshd.packets import one_packet_a_turn
from tests.ssh.served import Served, serve
from vdctui.drivers.base import HostUnreachable
from vdctui.drivers.ssh import HostKeyBook
from vdctui.drivers.ssh.pool import ConnectionPool
from vdctui.drivers.ssh.signed_auth import applies
from wire.coalescing import Coalescing


@pytest.fixture
async def served() -> AsyncIterator[Served]:
    result = await serve(emulator.build_demo(seed=5, hosts=3, vms=6))
    yield result
    await result.close()


def _methods_asked(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, bool]]:
    """(method, signed) of each userauth request the emulated hosts receive."""
    asked: list[tuple[str, bool]] = []
    handle = ssh_connection.SSHConnection._packet_handlers[MSG_USERAUTH_REQUEST]

    def counting(conn, pkttype, pktid, packet):  # type: ignore[no-untyped-def]
        if isinstance(conn, ssh_connection.SSHServerConnection):
            inner = asyncssh.packet.SSHPacket(packet.get_remaining_payload())  # a copy
            inner.get_string()  # user
            inner.get_string()  # service
            method = inner.get_string().decode()
            signed = method == "publickey" and inner.get_boolean()
            asked.append((method, signed))
        return handle(conn, pkttype, pktid, packet)

    monkeypatch.setitem(
        ssh_connection.SSHConnection._packet_handlers, MSG_USERAUTH_REQUEST, counting
    )
    return asked


async def test_a_login_is_one_signed_request(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    """asyncssh asks `none`, then whether the key would do, then signs: three round trips.
    With the inventory's key file the console sends the signed request at once (RFC 4252
    7 allows it), and the host lets it in."""
    asked = _methods_asked(monkeypatch)
    pool = ConnectionPool(served.inventory, HostKeyBook(served.inventory.known_hosts))
    try:
        for host in served.inventory.hosts:
            assert (await pool.run(host, "virsh -q list --all --name")).status == 0
    finally:
        await pool.close()
    assert asked == [("publickey", True)] * len(served.inventory.hosts)


async def test_a_key_the_host_does_not_take_is_refused_as_before(
    served: Served, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A key the host does not authorize: one signed request, the host's failure says
    what it offers, nothing else to try: refused, saying so."""
    other = tmp_path / "other_key"
    asyncssh.generate_private_key("ssh-ed25519").write_private_key(str(other))
    asked = _methods_asked(monkeypatch)
    inventory = replace(served.inventory, identity=other)
    pool = ConnectionPool(inventory, HostKeyBook(inventory.known_hosts))
    try:
        with pytest.raises(HostUnreachable, match="login was refused"):
            await pool.run(inventory.hosts[0], "virsh -q list --all --name")
    finally:
        await pool.close()
    assert asked == [("publickey", True)]


async def test_with_no_key_it_can_use_the_console_asks_none_first_as_asyncssh_does(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where no key can be used (none left that the connection may sign with) before the
    host has said what it offers, the console asks it with `none`, as asyncssh would."""
    asked = _methods_asked(monkeypatch)

    async def no_key(self):  # type: ignore[no-untyped-def]
        return None

    monkeypatch.setattr(ssh_connection.SSHClientConnection, "public_key_auth_requested", no_key)
    pool = ConnectionPool(served.inventory, HostKeyBook(served.inventory.known_hosts))
    try:
        with pytest.raises(HostUnreachable, match="login was refused"):
            await pool.run(served.inventory.hosts[0], "virsh -q list --all --name")
    finally:
        await pool.close()
    assert asked == [("none", False)]


def test_keys_from_an_agent_are_asked_about_before_signing() -> None:
    """An agent may ask its user to confirm each signature: with agent keys (or PKCS#11
    ones, or public key auth off) the console logs in as asyncssh does."""
    file_keys = SimpleNamespace(
        _auth_methods=[b"none"],
        _public_key_auth=True,
        _client_keys=["a key"],
        _get_agent_keys=True,
        _agent=SimpleNamespace(_agent_path=""),  # asyncssh's agent client for no agent
        _get_pkcs11_keys=False,
        _preferred_auth=[b"publickey", b"password"],
        try_next_auth=lambda **kw: None,
    )
    assert applies(file_keys)  # type: ignore[arg-type]
    for change in (
        {"_agent": SimpleNamespace(_agent_path="/run/agent.sock")},
        {"_get_pkcs11_keys": True},
        {"_public_key_auth": False},
        {"_client_keys": []},
        {"_preferred_auth": [b"password"]},
    ):
        assert not applies(SimpleNamespace(**{**vars(file_keys), **change}))  # type: ignore[arg-type]


async def test_what_one_turn_writes_goes_in_one_send() -> None:
    sent: list[bytes] = []
    closed: list[bool] = []
    inner = SimpleNamespace(
        write=sent.append, is_closing=lambda: False, close=lambda: closed.append(True)
    )
    transport = Coalescing(inner, asyncio.get_running_loop())  # type: ignore[arg-type]
    transport.write(b"newkeys")
    transport.write(b"service-request")
    assert sent == []
    await asyncio.sleep(0)
    assert sent == [b"newkeysservice-request"]
    transport.write(b"disconnect")
    transport.close()  # what was written goes before the close
    assert sent == [b"newkeysservice-request", b"disconnect"] and closed == [True]


async def test_an_emulated_command_writes_one_packet_a_turn() -> None:
    """What the emulated command writes in one turn goes in one write per stream, in
    order; its exit goes after it; a channel that closed takes no more."""
    done: list[tuple[str, Any]] = []
    channel = SimpleNamespace(
        _send_state="open",
        write=lambda data, datatype=None: done.append(("write", (data, datatype))),
        write_eof=lambda: done.append(("eof", None)),
        exit=lambda status: done.append(("exit", status)),
        exit_with_signal=lambda *a: done.append(("signal", a)),
        close=lambda: done.append(("close", None)),
    )
    one_packet_a_turn(channel)
    channel.write("banner\n")
    channel.write("virsh # ")
    channel.write("error: x\n", 1)
    channel.write("more")
    assert done == []
    await asyncio.sleep(0)
    assert done == [
        ("write", ("banner\nvirsh # ", None)),
        ("write", ("error: x\n", 1)),
        ("write", ("more", None)),
    ]
    done.clear()
    channel.write("answer\n")
    channel.exit(0)
    assert done == [("write", ("answer\n", None)), ("exit", 0)]


async def test_a_cold_poll_answers_in_three_packets(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first poll of a host: the process probe with virsh's banner, the poll's
    answer, the new VMs' interfaces: a packet each (asyncssh sent one per write: seven)."""
    from vdctui.drivers.ssh import SshDriver

    data: dict[int, int] = {}
    handle = ssh_channel.SSHChannel._packet_handlers[MSG_CHANNEL_DATA]

    def counting(chan, pkttype, pktid, packet):  # type: ignore[no-untyped-def]
        if isinstance(chan, ssh_channel.SSHClientChannel):
            data[id(chan)] = data.get(id(chan), 0) + 1
        return handle(chan, pkttype, pktid, packet)

    monkeypatch.setitem(ssh_channel.SSHChannel._packet_handlers, MSG_CHANNEL_DATA, counting)
    driver = SshDriver(served.inventory, HostKeyBook(served.inventory.known_hosts))
    try:
        await driver.list_vms()
    finally:
        await driver.close()
    assert len(data) == len(served.inventory.hosts)  # one channel a host
    assert all(n <= 3 for n in data.values()), data


async def test_a_connection_is_made_without_a_thread_and_logs_as_before(
    served: Served, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """asyncssh prepares a connection's options in the loop's executor (a thread hop per
    host): the pool prepares them in the loop. Its log messages are written as asyncssh
    writes them, where its logger logs them."""

    async def in_a_thread(*args: object, **kwargs: object) -> None:
        raise AssertionError("a connection's options were prepared in the executor")

    # asyncssh.connect's step that prepares them there (the emulated hosts, in this
    # process, use the executor for their own ends)
    monkeypatch.setattr(ssh_connection.SSHClientConnectionOptions, "construct", in_a_thread)
    pool = ConnectionPool(served.inventory, HostKeyBook(served.inventory.known_hosts))
    caplog.set_level(logging.INFO, logger="asyncssh")
    try:
        host = served.inventory.hosts[0]
        assert (await pool.run(host, "virsh -q list --all --name")).status == 0
    finally:
        await pool.close()
    said = [r.getMessage() for r in caplog.records if r.name.startswith("asyncssh")]
    assert any("Connected to SSH server at 127.0.0.1, port" in m for m in said), said
    assert any("Auth for user" in m and "succeeded" in m for m in said), said


async def test_a_message_not_logged_is_not_formatted(
    served: Served, caplog: pytest.LogCaptureFixture
) -> None:
    """asyncssh formats a message's arguments (hosts, algorithm lists) before its logger
    is asked whether it logs at that level: a connection's logger, and its channels',
    ask first."""
    formatted: list[str] = []

    class Argument:
        def __str__(self) -> str:
            formatted.append("formatted")
            return "argument"

    pool = ConnectionPool(served.inventory, HostKeyBook(served.inventory.known_hosts))
    try:
        conn = await pool.connection(served.inventory.hosts[0])
        caplog.set_level(logging.WARNING, logger="asyncssh")
        conn.logger.info("not logged: %s", [Argument()])
        conn.logger.get_child(context="chan=0").info("not logged: %s", [Argument()])
        assert formatted == []
        conn.logger.warning("logged: %s", [Argument()])
        assert formatted == ["formatted"]
        assert "logged: argument" in caplog.text
    finally:
        await pool.close()


async def test_the_inventory_appears_whole_after_its_known_hosts(
    served: Served, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A reader waits for `vdctui emulate --write-inventory`'s file to exist and reads it
    (bench/ssh_fanout.py): it read one half written ('no [[hosts]] tables'), and the
    known_hosts was written after it. Each now appears whole (renamed into place), the
    known_hosts first."""
    import os

    from emulator.sshd import write_inventory

    placed: list[tuple[str, bool]] = []
    replace_file = os.replace

    def placing(src: Any, dst: Any) -> None:
        replace_file(src, dst)
        placed.append((Path(dst).name, served.files.known_hosts_path.exists()))

    monkeypatch.setattr(os, "replace", placing)
    served.files.known_hosts_path.unlink()
    path = tmp_path / "inv.toml"
    write_inventory(path, served.fleet, served.server, served.files)
    assert placed == [(served.files.known_hosts_path.name, True), ("inv.toml", True)]
    assert path.read_text().count("[[hosts]]") == len(served.fleet.hosts)


async def test_the_cycle_collector_waits_while_a_poll_fans_out(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fan-out's many short-lived objects made the collector run ~15 times a refresh
    (15-25% of the console's CPU): it is paused while every host is polled, overlapping
    polls included, and runs again after the last, also when a poll fails; where it
    was off before, it stays off."""
    import gc

    from vdctui.drivers.ssh import SshDriver
    from vdctui.drivers.ssh.collector import collection_paused

    driver = SshDriver(served.inventory, HostKeyBook(served.inventory.known_hosts))
    running: list[bool] = []
    read = driver.reader.read

    async def noting(inv):  # type: ignore[no-untyped-def]
        running.append(gc.isenabled())
        return await read(inv)

    driver.reader.read = noting  # type: ignore[method-assign]
    assert gc.isenabled()
    try:
        await asyncio.gather(driver.list_hosts(), driver.list_hosts())
        assert running and not any(running)
        assert gc.isenabled()

        async def failing(inv):  # type: ignore[no-untyped-def]
            raise RuntimeError("boom")

        driver.reader.read = failing  # type: ignore[method-assign]
        with pytest.raises(RuntimeError):
            await driver.list_hosts()
        assert gc.isenabled()
    finally:
        await driver.close()
    gc.disable()
    try:
        with collection_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


async def test_the_signed_request_goes_right_behind_the_service_request(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The login does not wait a round trip for the service to be accepted: the host
    reads the two in order (OpenSSH's sshd too: tests/ssh/test_openssh_virsh.py)."""
    from asyncssh.constants import MSG_SERVICE_ACCEPT

    seen: list[str] = []
    send = ssh_connection.SSHConnection.send_packet

    def sending(conn, pkttype, *args, **kwargs):  # type: ignore[no-untyped-def]
        if isinstance(conn, ssh_connection.SSHClientConnection) and pkttype == MSG_USERAUTH_REQUEST:
            seen.append("auth sent")
        return send(conn, pkttype, *args, **kwargs)

    accept = ssh_connection.SSHConnection._packet_handlers[MSG_SERVICE_ACCEPT]

    def accepted(conn, *args):  # type: ignore[no-untyped-def]
        seen.append("service accepted")
        return accept(conn, *args)

    monkeypatch.setattr(ssh_connection.SSHConnection, "send_packet", sending)
    monkeypatch.setitem(ssh_connection.SSHConnection._packet_handlers, MSG_SERVICE_ACCEPT, accepted)
    pool = ConnectionPool(served.inventory, HostKeyBook(served.inventory.known_hosts))
    try:
        assert (await pool.run(served.inventory.hosts[0], "virsh -q list --all --name")).status == 0
    finally:
        await pool.close()
    assert seen == ["auth sent", "service accepted"]


def test_an_rsa_key_waits_for_the_hosts_signature_algorithms() -> None:
    """An RSA key signs as the host's server-sig-algs say (sha2-256, sha2-512, sha1),
    which come with the key exchange's end: its request is not sent ahead."""
    from vdctui.drivers.ssh.signed_auth import _one_signature_each

    def pair(alg: str) -> Any:
        return asyncssh.load_keypairs([asyncssh.generate_private_key(alg)])[0]

    assert _one_signature_each([pair("ssh-ed25519"), pair("ecdsa-sha2-nistp256")])
    assert not _one_signature_each([pair("ssh-ed25519"), pair("ssh-rsa")])
