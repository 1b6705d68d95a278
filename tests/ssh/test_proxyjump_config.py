"""Hosts reachable only through the bastion, by a `ProxyJump` in the inventory's ssh_config."""

from __future__ import annotations

from dataclasses import replace

import emulator
from emulator.sshd.server import LOOPBACK
from tests.conftest import running_vm_on_shared_storage
from tests.ssh.served import serve
from vdctui.drivers.ssh import HostKeyBook, SshDriver
from vdctui.model import HostState


async def test_proxyjump_from_ssh_config_shares_one_bastion_connection() -> None:
    fleet = emulator.build_demo(seed=3, hosts=6, vms=12)
    served = await serve(fleet, bastion=True)
    assert served.server.bastion is not None
    names = sorted(fleet.hosts)
    config = served.directory / "ssh_config"
    config.write_text(
        "Host emu-bastion\n"
        f"    HostName {LOOPBACK}\n"
        f"    Port {served.server.bastion.port}\n"
        "    User vdctui\n"
        f"Host {' '.join(names)}\n"
        "    ProxyJump emu-bastion\n"
        "    User vdctui\n"
    )
    # no `jump` and no user in the inventory: only the ssh_config says how to get there
    hosts = tuple(
        replace(h, jump=None, address=replace(h.address, user=None)) for h in served.inventory.hosts
    )
    inventory = replace(served.inventory, hosts=hosts, ssh_config=config)
    driver = SshDriver(inventory, HostKeyBook(inventory.known_hosts))
    stats = served.server.stats
    try:
        seen = await driver.list_hosts()
        assert [h.state for h in seen] == [HostState.UP] * len(names), [h.reason for h in seen]
        assert stats.bastion_connections == 1  # every host through one bastion connection
        assert stats.forwarded == len(names)
        vm = running_vm_on_shared_storage(fleet)
        await driver.suspend(vm)
        assert fleet.vms[vm].state == "paused"
        assert stats.bastion_connections == 1
    finally:
        await driver.close()
        await served.close()


async def test_a_bad_ssh_config_is_a_per_host_error_not_a_crash() -> None:
    fleet = emulator.build_demo(seed=3, hosts=2, vms=2)
    served = await serve(fleet)
    config = served.directory / "ssh_config"
    config.write_text("Host *\n    ProxyJump\n")  # a keyword without its value
    inventory = replace(served.inventory, ssh_config=config)
    driver = SshDriver(inventory, HostKeyBook(inventory.known_hosts))
    try:
        seen = await driver.list_hosts()
        assert all(h.state is HostState.UNREACHABLE and "ssh_config" in h.reason for h in seen), [
            h.reason for h in seen
        ]
    finally:
        await driver.close()
        await served.close()
