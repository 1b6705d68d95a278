"""No empty MSG_IGNORE in front of every packet a connection sends.

asyncssh (2.x) sends an empty SSH_MSG_IGNORE before each packet after the key
exchange: a countermeasure for CBC ciphers, whose next IV an attacker could
otherwise predict. The console negotiates AES-GCM (else chacha20-poly1305 or
CTR: asyncssh offers no CBC cipher unless an ssh_config asks for one), where
it protects nothing, and it makes every command, its data and its close twice
as many packets to encrypt and send (and for the host to decrypt): on a cold
refresh of a fleet, a third of the console's packets. OpenSSH sends none.

`drop_ignore_packets(conn)` (from a connection's `connection_made`) leaves them
out on that connection, unless the cipher it negotiates is a CBC one. The console's
SSH client (vdctui.drivers.ssh.hostkeys) and the emulated hosts' sshd
(emulator.sshd.packets, which sends as a host's sshd in C would) both use it.
"""

from __future__ import annotations

from typing import Any

import asyncssh
from asyncssh.constants import MSG_IGNORE


def drop_ignore_packets(conn: asyncssh.SSHClientConnection | asyncssh.SSHServerConnection) -> None:
    send = conn.send_packet  # asyncssh sends its ignore packets through this, on self

    def send_packet(pkttype: int, *args: bytes, **kwargs: Any) -> None:
        if pkttype == MSG_IGNORE and not _cbc(conn):
            return
        send(pkttype, *args, **kwargs)

    conn.send_packet = send_packet  # type: ignore[method-assign]


def _cbc(conn: asyncssh.SSHClientConnection | asyncssh.SSHServerConnection) -> bool:
    cipher = conn.get_extra_info("send_cipher") or ""
    return "cbc" in str(cipher).lower()
