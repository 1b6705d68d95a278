"""The HAProxy ADC against Debian's haproxy: its runtime API over a local socket, sent
by a local shell and (as root, with sshd) through the SSH pool, as the console does.

The members are plain local ports: web-001 without a health check ("no check"), web-002
checked against a port that listens (L4OK), web-003 against one that does not (down);
`test` (libvirt's test driver's VM) without a check."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.ssh.test_openssh_virsh import SSHD, free_port, real_host  # noqa: F401
from tests.waiting import ENOUGH
from vdctui.drivers.adc.haproxy import HaproxyAdc, runtime_command
from vdctui.drivers.adc.haproxy_state import parse_servers_state, parse_stat
from vdctui.drivers.base import InvalidOperation
from vdctui.drivers.ssh import HostKeyBook
from vdctui.drivers.ssh.inventory import Inventory, InventoryHost
from vdctui.drivers.ssh.pool import ConnectionPool
from vdctui.model import MemberState, Service, ServiceMember

pytestmark = pytest.mark.skipif(
    shutil.which("haproxy") is None or shutil.which("socat") is None,
    reason="needs haproxy and socat (Debian packages)",
)
SHOP = Service(
    "shop",
    "127.0.0.1",
    0,
    members=(ServiceMember("web-001", 1), ServiceMember("web-002", 1), ServiceMember("web-003", 1)),
)


@pytest.fixture
def haproxy(tmp_path: Path) -> Iterator[Path]:
    """haproxy in the foreground with an admin socket; one listening port for web-002."""
    sock = tmp_path / "admin.sock"
    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    listening.listen()
    up = listening.getsockname()[1]
    (tmp_path / "haproxy.cfg").write_text(f"""global
    stats socket {sock} mode 600 level admin
defaults
    mode tcp
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend shop
    bind 127.0.0.1:{free_port()}
    default_backend shop
backend shop
    server web-001 127.0.0.1:{free_port()}
    server web-002 127.0.0.1:{up} check inter 200ms
    server web-003 127.0.0.1:{free_port()} check inter 200ms fall 1
    server test 127.0.0.1:{free_port()}
""")
    proc = subprocess.Popen(
        ["haproxy", "-f", str(tmp_path / "haproxy.cfg"), "-db"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + ENOUGH
        while not sock.exists():
            if proc.poll() is not None:
                raise AssertionError(proc.stderr.read().decode() if proc.stderr else "")
            assert time.monotonic() < deadline, f"haproxy never made its socket {sock}"
            time.sleep(0.05)
        yield sock
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        listening.close()


async def local(command: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_shell(
        command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await proc.communicate()
    return proc.returncode or 0, out.decode(), err.decode()


async def settled(adc: HaproxyAdc) -> list[object]:
    """Members once the health checks have had their first say."""
    deadline = time.monotonic() + ENOUGH
    while True:
        (status,) = await adc.status([SHOP])
        web2, web3 = status.members[1], status.members[2]
        if web2.healthy and web3.healthy is False and web3.state is MemberState.DOWN:
            return list(status.members)
        assert time.monotonic() < deadline, f"health checks did not settle: {status}"
        await asyncio.sleep(0.1)


async def test_status_drain_maint_ready_and_weight(haproxy: Path) -> None:
    adc = HaproxyAdc("lb-01", str(haproxy), local)
    await adc.define(SHOP)
    members = await settled(adc)
    assert [(m.vm, m.state, m.healthy) for m in members] == [  # type: ignore[attr-defined]
        ("web-001", MemberState.UP, None),  # no check: health unknown
        ("web-002", MemberState.UP, True),
        ("web-003", MemberState.DOWN, False),
    ]
    await adc.set_state("shop", SHOP.members[1], "drain")
    await adc.set_weight("shop", SHOP.members[0], 50)
    # HAProxy's own word for it
    own = {
        s.server: s
        for s in parse_servers_state(
            (await local(runtime_command(str(haproxy), "show servers state shop")))[1]
        )
    }
    assert own["web-002"].admin_state & 0x08 and own["web-002"].state is MemberState.DRAIN
    assert own["web-001"].weight == 50
    await adc.set_state("shop", SHOP.members[1], "maint")
    (status,) = await adc.status([SHOP])
    assert status.members[1].state is MemberState.MAINT
    await adc.set_state("shop", SHOP.members[1], "ready")
    (status,) = await adc.status([SHOP])
    assert status.members[1].state is MemberState.UP
    assert status.req_s == 0 and status.error_rate is None and status.failed == 0


async def test_missing_backends_servers_and_bad_names_are_refused(haproxy: Path) -> None:
    adc = HaproxyAdc("lb-01", str(haproxy), local)
    with pytest.raises(InvalidOperation, match="Can't find backend"):
        await adc.define(Service("nosuch", "127.0.0.1", 80))
    with pytest.raises(InvalidOperation, match="has no server web-009 in backend shop"):
        await adc.define(Service("shop", "127.0.0.1", 80, members=(ServiceMember("web-009", 1),)))
    for name in ("web-001 state maint", "web;id", "$(id)"):
        with pytest.raises(InvalidOperation, match="not a valid server name"):
            await adc.set_state("shop", ServiceMember(name, 1), "drain")
    with pytest.raises(InvalidOperation, match="socket path"):
        runtime_command("/tmp/x,fork", "help")


def test_the_command_is_quoted_for_the_shell() -> None:
    assert runtime_command("/run/haproxy/admin.sock", "set server a/b state drain") == (
        "printf '%s\\n' 'set server a/b state drain' | "
        "socat -t 5 stdio UNIX-CONNECT:/run/haproxy/admin.sock"
    )


def test_parsers_read_haproxy_answers_and_refuse_others() -> None:
    rows = parse_stat(
        "# pxname,svname,scur,rate,status,weight,check_status,econ,eresp\n"
        "shop,web-001,3,7,UP,100,L4OK,1,2\nshop,BACKEND,3,7,UP,100,,4,\n"
    )
    assert (rows[0].sessions, rows[0].rate, rows[0].healthy, rows[0].failed) == (3, 7, True, 3)
    assert rows[1].failed == 4 and rows[1].healthy is None
    for bad in ("Unknown command.", "# pxname,scur\nshop,-3\n"):
        with pytest.raises(ValueError):
            parse_stat(bad)
    with pytest.raises(ValueError):
        parse_servers_state("No such backend.")


@pytest.fixture
async def ssh_adc(
    real_host: InventoryHost,  # noqa: F811
    haproxy: Path,
    tmp_path: Path,
) -> AsyncIterator[HaproxyAdc]:
    inventory = Inventory(tmp_path / "i.toml", (real_host,), known_hosts=tmp_path / "known_hosts")
    pool = ConnectionPool(inventory, HostKeyBook(inventory.known_hosts))

    async def over_ssh(command: str) -> tuple[int, str, str]:
        done = await pool.run(real_host, command, read=command.count("set server") == 0)
        return done.status, done.stdout, done.stderr

    yield HaproxyAdc(real_host.name, str(haproxy), over_ssh)
    await pool.close()


@pytest.mark.skipif(SSHD is None, reason="needs openssh-server")
async def test_through_the_ssh_pool(ssh_adc: HaproxyAdc, haproxy: Path) -> None:
    await ssh_adc.define(SHOP)
    await settled(ssh_adc)
    await ssh_adc.set_state("shop", SHOP.members[0], "drain")
    own = parse_servers_state(
        (await local(runtime_command(str(haproxy), "show servers state shop")))[1]
    )
    assert [s.state for s in own if s.server == "web-001"] == [MemberState.DRAIN]


@pytest.mark.skipif(SSHD is None, reason="needs openssh-server")
async def test_the_console_drains_a_member_in_haproxy_named_in_the_inventory(
    real_host: InventoryHost,  # noqa: F811
    haproxy: Path,
    tmp_path: Path,
) -> None:
    from vdctui.drivers.ssh import SshDriver, load_inventory
    from vdctui.model import Role
    from vdctui.ops import Console, Identity, Refused
    from vdctui.ops.services import add_member, create_service, set_member, statuses
    from vdctui.store import Store

    assert real_host.identity is not None
    address = real_host.address
    (tmp_path / "inventory.toml").write_text(f"""known_hosts = "known_hosts"
[[hosts]]
name = "real-01"
site = "s"
room = "r"
rack = "k"
address = "{address.user}@{address.host}:{address.port}"
identity = "{real_host.identity}"
uri = "test:///default"

[[adc]]
name = "lb-01"
address = "{address.user}@{address.host}:{address.port}"
identity = "{real_host.identity}"
socket = "{haproxy}"
""")
    inventory = load_inventory(tmp_path / "inventory.toml")
    assert [a.host.name for a in inventory.adcs] == ["lb-01"]
    driver = SshDriver(inventory, HostKeyBook(inventory.known_hosts))
    console = Console(Store(":memory:"), driver, Identity("alice", Role.OPERATOR))
    try:
        await console.sync()
        await create_service(console, "shop", vip="127.0.0.1", port=443)
        with pytest.raises(Refused, match="There is no VM named 'web-002'"):
            await add_member(console, "shop", "web-002", 8080)
        await add_member(console, "shop", "test", 8080)
        await set_member(console, "shop", "test", state="drain", force=True)
        (status,) = await statuses(console)
        assert status.members[0].state is MemberState.DRAIN
    finally:
        await console.close()
    own = parse_servers_state(
        (await local(runtime_command(str(haproxy), "show servers state shop")))[1]
    )
    assert [s.state for s in own if s.server == "test"] == [MemberState.DRAIN]


def test_adc_tables_are_checked_where_they_enter(tmp_path: Path) -> None:
    from vdctui.drivers.ssh.inventory import InventoryError, load_inventory

    host = '[[hosts]]\nname = "h1"\nsite = "s"\nroom = "r"\nrack = "k"\naddress = "10.0.0.1"\n'
    for adc, match in (
        ('[[adc]]\nname = "lb"\naddress = "10.0.0.5"\nsocket = "run/x"\n', "absolute path"),
        ('[[adc]]\nname = "lb"\naddress = "10.0.0.5"\nport_x = 1\n', "unknown .* 'port_x'"),
        ('[[adc]]\nname = "h1"\naddress = "10.0.0.5"\n', "listed twice"),
        ('[[adc]]\nname = "lb;x"\naddress = "10.0.0.5"\n', "not a valid host name"),
    ):
        (tmp_path / "i.toml").write_text(host + adc)
        with pytest.raises(InventoryError, match=match):
            load_inventory(tmp_path / "i.toml")
    (tmp_path / "i.toml").write_text(host + '[[adc]]\nname = "lb"\naddress = "root@10.0.0.5"\n')
    (entry,) = load_inventory(tmp_path / "i.toml").adcs
    assert (entry.host.name, entry.socket, entry.kind) == (
        "lb",
        "/run/haproxy/admin.sock",
        "haproxy",
    )
