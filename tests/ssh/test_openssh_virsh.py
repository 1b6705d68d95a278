"""Against programs no one here wrote: OpenSSH's sshd on 127.0.0.1 in front of real virsh.

libvirt's test driver (`test:///default`) keeps no state from one virsh
process to the next, so a change is checked by its exit status only.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncssh
import pytest

from emulator.sshd.files import known_hosts_line
from tests.waiting import ENOUGH
from vdctui.drivers.base import NoSuchVm
from vdctui.drivers.ssh import HostKeyBook, SshDriver, commands
from vdctui.drivers.ssh.inventory import Address, Inventory, InventoryHost
from vdctui.model import HostState, VmState

SSHD = shutil.which("sshd") or ("/usr/sbin/sshd" if Path("/usr/sbin/sshd").exists() else None)

pytestmark = pytest.mark.skipif(
    SSHD is None or shutil.which("virsh") is None or os.geteuid() != 0,
    reason="needs openssh-server, libvirt-clients and root (sshd's privilege separation)",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def real_host(tmp_path: Path) -> AsyncIterator[InventoryHost]:
    host_key = asyncssh.generate_private_key("ssh-ed25519")
    host_key.write_private_key(str(tmp_path / "host_key"))
    (tmp_path / "host_key").chmod(0o600)
    client_key = asyncssh.generate_private_key("ssh-ed25519")
    client_key.write_private_key(str(tmp_path / "client_key"))
    (tmp_path / "client_key").chmod(0o600)
    (tmp_path / "authorized_keys").write_bytes(client_key.export_public_key())
    port = free_port()
    (tmp_path / "known_hosts").write_text(known_hosts_line("127.0.0.1", port, host_key))
    (tmp_path / "sshd_config").write_text(f"""Port {port}
ListenAddress 127.0.0.1
HostKey {tmp_path / "host_key"}
PidFile {tmp_path / "sshd.pid"}
AuthorizedKeysFile {tmp_path / "authorized_keys"}
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PermitRootLogin prohibit-password
""")
    Path("/run/sshd").mkdir(exist_ok=True)
    proc = subprocess.Popen(
        [str(SSHD), "-D", "-e", "-f", str(tmp_path / "sshd_config")], stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + ENOUGH
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                if proc.poll() is not None:
                    raise AssertionError(
                        proc.stderr.read().decode() if proc.stderr else ""
                    ) from None
                assert time.monotonic() < deadline, f"sshd never listened on {port}"
                await asyncio.sleep(0.05)
        yield InventoryHost(
            name="real-01",
            site="s",
            room="r",
            rack="k",
            address=Address("127.0.0.1", "root", port),
            identity=tmp_path / "client_key",
            uri="test:///default",
        )
    finally:
        proc.terminate()
        proc.wait(timeout=10)


async def test_console_lists_a_real_host_and_acts_on_it(
    real_host: InventoryHost, tmp_path: Path
) -> None:
    assert real_host.identity is not None
    inventory = Inventory(
        tmp_path / "inventory.toml", (real_host,), known_hosts=tmp_path / "known_hosts"
    )
    driver = SshDriver(inventory, HostKeyBook(inventory.known_hosts))
    marker = tmp_path / f"pwned-{uuid.uuid4().hex}"
    try:
        [host] = await driver.list_hosts()
        assert host.state is HostState.UP, host.reason
        assert (host.cpus, host.mhz, host.memory_mib) == (16, 1400, 3072)
        assert host.datastores == ("default-pool",)
        [vm] = await driver.list_vms()
        assert (vm.name, vm.state, vm.host) == ("test", VmState.RUNNING, "real-01")
        assert (vm.vcpus, vm.memory_mib, vm.max_memory_mib) == (2, 2048, 8192)
        assert vm.uuid == "6695eb01-f6a4-8304-79aa-97f2502e193f"
        await driver.suspend("test")  # exit status 0 from the real virsh
        await driver.destroy("test")
        for name in (
            f"x; touch {marker}",
            f"$(touch {marker})",
            f"`touch {marker}`",
            f"a\ntouch {marker}",
        ):
            with pytest.raises(NoSuchVm):
                await driver.start(name)
            # the driver refuses unknown names before sending them; send one anyway, as a
            # stale view would, through the real remote shell
            out = await driver.pool.run(
                real_host, commands.lifecycle(real_host.uri, "start", name), read=False
            )
            assert out.status == 1 and "failed to get domain" in out.error
    finally:
        await driver.close()
    assert not marker.exists()
