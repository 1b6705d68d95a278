"""A kept-open virsh's first poll line goes right behind its exec request, before the
host has answered the exec (one round trip a host fewer on a cold refresh), and the
session reads its answers in order whatever is asked first."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncssh.channel as ssh_channel
import pytest
from asyncssh.constants import MSG_CHANNEL_DATA, MSG_CHANNEL_REQUEST, MSG_CHANNEL_SUCCESS

import emulator
from tests.ssh.served import Served, serve
from vdctui.drivers.ssh import HostKeyBook, SshDriver, pipelined
from vdctui.drivers.ssh.session import VirshSession


@pytest.fixture
async def served() -> AsyncIterator[Served]:
    result = await serve(emulator.build_demo(seed=5, hosts=3, vms=6))
    yield result
    await result.close()


def _channel_events(monkeypatch: pytest.MonkeyPatch) -> dict[int, list[str]]:
    """Per client channel, in order: what it sent (request, data) and its exec's success."""
    events: dict[int, list[str]] = {}
    send = ssh_channel.SSHChannel.send_packet

    def sending(chan, pkttype, *args):  # type: ignore[no-untyped-def]
        if isinstance(chan, ssh_channel.SSHClientChannel):
            said = {MSG_CHANNEL_REQUEST: "request", MSG_CHANNEL_DATA: "data"}.get(pkttype)
            if said:
                events.setdefault(id(chan), []).append(said)
        return send(chan, pkttype, *args)

    handle = ssh_channel.SSHChannel._packet_handlers[MSG_CHANNEL_SUCCESS]

    def succeeded(chan, pkttype, pktid, packet):  # type: ignore[no-untyped-def]
        events.setdefault(id(chan), []).append("success")
        return handle(chan, pkttype, pktid, packet)

    monkeypatch.setattr(ssh_channel.SSHChannel, "send_packet", sending)
    monkeypatch.setitem(ssh_channel.SSHChannel._packet_handlers, MSG_CHANNEL_SUCCESS, succeeded)
    return events


async def _refresh(served: Served) -> list[str]:
    driver = SshDriver(served.inventory, HostKeyBook(served.inventory.known_hosts))
    try:
        hosts = await driver.list_hosts()
        await driver.list_vms()
        return [h.state for h in hosts]
    finally:
        await driver.close()


async def test_the_first_poll_line_goes_with_the_exec(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    events = _channel_events(monkeypatch)
    assert await _refresh(served) == ["up"] * len(served.inventory.hosts)
    assert len(events) == len(served.inventory.hosts)  # one channel a host
    for said in events.values():
        assert said[:3] == ["request", "data", "success"], said


async def test_without_asyncssh_as_expected_the_line_follows_the_exec(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another asyncssh (its internals not as expected): the line is written once the
    process is returned, as before, and the poll reads the same."""
    events = _channel_events(monkeypatch)
    monkeypatch.setattr(pipelined, "_FITS", False)
    assert await _refresh(served) == ["up"] * len(served.inventory.hosts)
    for said in events.values():
        assert said[:3] == ["request", "success", "data"], said


async def test_another_line_asked_first_gets_its_own_answer(served: Served) -> None:
    """The line sent with the exec is answered first; a session asked something else
    first reads past that answer, and the line asked later is asked again."""
    driver = SshDriver(served.inventory, HostKeyBook(served.inventory.known_hosts))
    host = served.inventory.hosts[0]
    session = VirshSession(driver.pool, host)
    try:
        await session.open(greet=False, then="echo first")
        assert await session.ask_line("echo other") == "other\n"
        assert await session.ask_line("echo first") == "first\n"
        assert await session.ask_line("echo third") == "third\n"
    finally:
        await session.close()
        await driver.close()
