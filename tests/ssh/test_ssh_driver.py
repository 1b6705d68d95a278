"""The SSH driver end to end against emulated hosts on 127.0.0.1."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import asyncssh
import pytest

import emulator
from emulator.sshd.files import known_hosts_line
from tests.conftest import host_with_room_for, running_vm_on_shared_storage
from tests.ssh.served import Served, serve
from vdctui.drivers.base import HostUnreachable, NoSuchVm
from vdctui.drivers.ssh import HostKeyBook, HostKeyRefused, SshDriver, Verdict, fingerprint
from vdctui.model import HostState, MigrationOutcome, VmState


@pytest.fixture
async def served() -> AsyncIterator[Served]:
    fleet = emulator.build_demo(seed=3, hosts=4, vms=12)
    result = await serve(fleet)
    yield result
    await result.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_hostile_names_never_run_anything(served: Served, tmp_path: Path) -> None:
    marker = tmp_path / f"pwned-{uuid.uuid4().hex}"
    hostile = [
        f"x;touch${{IFS}}{marker}",
        f"$(touch${{IFS}}{marker})",
        f"`touch${{IFS}}{marker}`",
        "it's",
        "-rf",
        "a|b&c>d",
    ]
    fleet = served.fleet
    template = fleet.vms[running_vm_on_shared_storage(fleet)]
    driver = served.driver()
    try:
        for name in hostile:
            fleet.define_vm(
                name, template.host, vcpus=1, memory_mib=256, datastore=template.datastore
            )
        listed = {vm.name: vm for vm in await driver.list_vms()}
        for name in hostile:
            assert listed[name].state is VmState.SHUTOFF
            await driver.start(name)
            await driver.suspend(name)
            assert (await driver.get_vm(name)).state is VmState.PAUSED
            await driver.destroy(name)
            await driver.undefine(name)
        for name in ("x; touch /tmp/pwned", "$(reboot)", "a\nreboot", "--all"):
            with pytest.raises(NoSuchVm):
                await driver.start(name)
    finally:
        await driver.close()
    assert not marker.exists()
    assert served.server.stats.injections == []
    assert not any(name in fleet.vms for name in hostile)


async def test_unknown_host_key_is_refused_then_trusted(served: Served) -> None:
    inventory = served.inventory
    trusted: dict[str, list[str]] = {}
    refused: list[HostUnreachable] = []
    book = HostKeyBook(None, trusted=lambda name: trusted.get(name, []))
    driver = SshDriver(inventory, book, on_refused=refused.append)
    first = inventory.hosts[0]
    key = served.server.endpoints[first.name].key
    try:
        hosts = {h.name: h for h in await driver.list_hosts()}
        assert hosts[first.name].state is HostState.UNREACHABLE
        reason = hosts[first.name].reason
        assert fingerprint(key) in reason and f"vdctui host trust {first.name}" in reason
        assert refused and isinstance(refused[0], HostKeyRefused)
        assert refused[0].verdict is Verdict.UNKNOWN
        check = await driver.pool.host_key(first)
        assert check.verdict is Verdict.UNKNOWN and fingerprint(check.key) == fingerprint(key)
        trusted[first.name] = [key.export_public_key().decode().strip()]
        driver.pool.forget(first)
        driver.pool._links.pop(first.name, None)  # skip the backoff for the test
        hosts = {h.name: h for h in await driver.list_hosts()}
        assert hosts[first.name].state is HostState.UP
    finally:
        await driver.close()


async def test_a_changed_host_key_is_always_refused(served: Served, tmp_path: Path) -> None:
    inventory = served.inventory
    first = inventory.hosts[0]
    port = served.server.endpoints[first.name].port
    impostor = asyncssh.generate_private_key("ssh-ed25519")
    known = tmp_path / "known_hosts"
    known.write_text(known_hosts_line("127.0.0.1", port, impostor))
    real = served.server.endpoints[first.name].key
    # even a key the console trusts does not override a different one on record
    book = HostKeyBook(known, trusted=lambda name: [real.export_public_key().decode()])
    refused: list[HostUnreachable] = []
    driver = SshDriver(replace(inventory, hosts=(first,)), book, on_refused=refused.append)
    try:
        [host] = await driver.list_hosts()
        assert host.state is HostState.UNREACHABLE and "CHANGED" in host.reason
        assert isinstance(refused[0], HostKeyRefused) and refused[0].verdict is Verdict.CHANGED
        check = await driver.pool.host_key(first)
        assert check.verdict is Verdict.CHANGED
    finally:
        await driver.close()


async def test_an_unreachable_host_does_not_stop_the_rest(served: Served) -> None:
    inventory = served.inventory
    dead = replace(
        inventory.hosts[0],
        name="dead-01",
        address=replace(inventory.hosts[0].address, port=free_port()),
    )
    driver = SshDriver(
        replace(inventory, hosts=(*inventory.hosts, dead)), HostKeyBook(inventory.known_hosts)
    )
    try:
        hosts = {h.name: h for h in await driver.list_hosts()}
        assert hosts["dead-01"].state is HostState.UNREACHABLE
        assert "dead-01" in hosts["dead-01"].reason and "refused" in hosts["dead-01"].reason
        assert all(h.state is HostState.UP for n, h in hosts.items() if n != "dead-01")
        assert len(await driver.list_vms()) == len(served.fleet.vms)
        with pytest.raises(HostUnreachable):
            await driver.list_vms(host="dead-01")
    finally:
        await driver.close()


async def test_hosts_behind_a_bastion() -> None:
    fleet = emulator.build_demo(seed=3, hosts=4, vms=12)
    served = await serve(fleet, bastion=True)
    driver = served.driver()
    try:
        assert all(
            h.jump is not None and h.address.host in fleet.hosts for h in served.inventory.hosts
        )
        hosts = await driver.list_hosts()
        assert [h.state for h in hosts] == [HostState.UP] * 4
        assert served.server.stats.bastion_connections == 1  # one shared bastion connection
        assert served.server.stats.forwarded == 4
        vm = running_vm_on_shared_storage(fleet)
        await driver.suspend(vm)
        assert fleet.vms[vm].state == "paused"
        target = host_with_room_for(fleet, vm)
        handle = await driver.migrate(vm, target)
        result = await handle.wait()
        assert result.outcome is MigrationOutcome.SUCCEEDED, result.reason
        assert fleet.vms[vm].host == target
    finally:
        await driver.close()


async def test_migration_reports_progress_from_domjobinfo(served: Served) -> None:
    fleet = served.fleet
    vm = running_vm_on_shared_storage(fleet)
    fleet.vms[vm].dirty_rate = 2e9  # several rounds
    served.server.migration_rate = 10.0  # slow enough to sample a few times
    target = host_with_room_for(fleet, vm)
    driver = served.driver(progress_interval_s=0.02)
    try:
        handle = await driver.migrate(vm, target)
        samples = [s async for s in handle.updates()]
        result = await handle.wait()
    finally:
        await driver.close()
    assert len(samples) >= 2
    processed = [s.data_processed for s in samples]
    assert processed == sorted(processed) and processed[-1] > 0
    assert result.outcome is MigrationOutcome.SUCCEEDED and result.rounds >= 2
    assert samples[-1].phase == "done"


@pytest.mark.skipif(shutil.which("ssh") is None, reason="OpenSSH client is not installed")
async def test_openssh_client_talks_to_an_emulated_host(served: Served) -> None:
    host = served.inventory.hosts[0]
    port = served.server.endpoints[host.name].port
    proc = await asyncio.create_subprocess_exec(
        "ssh",
        "-F",
        "/dev/null",
        "-i",
        str(served.files.client_key_path),
        "-p",
        str(port),
        "-o",
        f"UserKnownHostsFile={served.files.known_hosts_path}",
        "-o",
        "StrictHostKeyChecking=yes",
        "-o",
        "BatchMode=yes",
        "-o",
        "IdentitiesOnly=yes",
        "vdctui@127.0.0.1",
        "virsh",
        "-q",
        "list",
        "--all",
        "--name",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "SSH_AUTH_SOCK": ""},
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()
    assert sorted(out.decode().split()) == sorted(v.name for v in served.fleet.vms_on(host.name))
