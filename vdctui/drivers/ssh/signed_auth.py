"""Public key authentication in one round trip: the signed request first.

asyncssh logs in as OpenSSH's client does: a `none` request (to learn the methods the
server offers), then a public key *query* (would the server take this key?), then the
same request signed: three round trips, and six packets each side encrypts, sends and
decrypts. RFC 4252 (7) lets a client send the signature directly. With the inventory's
identity file (keys already in memory, no agent to ask, no passphrase to prompt for),
the console does: one request, signed, answered by success or by the failure that lists
the methods left, after which asyncssh goes on as usual (the next key, signed directly
too; then the other methods). And it sends it right behind the service request, not a
round trip later when the service is accepted (a host reads them in order), where the
key signs one way only (ed25519, ECDSA; an RSA key's signature waits for the host's
server-sig-algs). A cold refresh of a fleet is three round trips a host fewer, on both
ends.

Keys from an agent keep the query first (an agent may ask its user to confirm each
signature: none is made for a key the server would not take), and so does a
connection where public key authentication is off (`PubkeyAuthentication no`).

`sign_at_once(conn)` from the client's `connection_made`. It uses asyncssh's client
auth internals (2.x); where they are not as expected it leaves the connection alone.
"""

from __future__ import annotations

from typing import Any

import asyncssh
import asyncssh.auth
from asyncssh.constants import MSG_SERVICE_REQUEST

# asyncssh's client-side public key auth, with its signed request (None: another
# asyncssh, where the console logs in as it does)
_ClientPublicKeyAuth: Any = getattr(asyncssh.auth, "_ClientPublicKeyAuth", None)

PUBLICKEY = b"publickey"
NONE = b"none"


def applies(conn: asyncssh.SSHClientConnection) -> bool:
    """Whether this connection logs in with in-memory keys only (the inventory's file)."""
    if _ClientPublicKeyAuth is None:
        return False
    wanted = getattr(conn, "_preferred_auth", None)
    return bool(
        getattr(conn, "_auth_methods", None) == [NONE]
        and getattr(conn, "_public_key_auth", False)
        and getattr(conn, "_client_keys", None)
        and not _agent(conn)
        and not getattr(conn, "_get_pkcs11_keys", True)
        and wanted is not None
        and PUBLICKEY in wanted
        and callable(getattr(conn, "try_next_auth", None))
    )


def _agent(conn: asyncssh.SSHClientConnection) -> bool:
    """Whether keys will be asked of an agent (asyncssh makes an agent client of an
    empty path where none is to be used: it finds nothing)."""
    if not getattr(conn, "_get_agent_keys", True):
        return False
    return getattr(getattr(conn, "_agent", None), "_agent_path", None) != ""


def sign_at_once(conn: asyncssh.SSHClientConnection) -> None:
    """Log in with the signed public key request first (see the module's doc)."""
    if not applies(conn):
        return
    c: Any = conn
    usual = c.try_next_auth
    first = [True]  # the attempt before the server said which methods it takes
    accept_pending = [False]  # auth began with the service request: skip the accept's call

    def try_next_auth(*, next_method: bool = False) -> None:
        if accept_pending[0] and not next_method:
            accept_pending[0] = False  # the service accept's call: auth is under way
            return
        methods = c._auth_methods
        if (methods[1:2] if next_method else methods[:1]) != [PUBLICKEY]:
            usual(next_method=next_method)
            return
        if c._auth is not None:
            c._auth.cancel()
        if next_method:
            methods.pop(0)
        c._auth = auth = _SignedFirst(c, PUBLICKEY)  # its _start runs at the next turn
        auth.first, first[0] = first[0], False

    send = c.send_packet

    def send_packet(pkttype: int, *args: bytes, **kwargs: Any) -> None:
        send(pkttype, *args, **kwargs)
        if (
            pkttype == MSG_SERVICE_REQUEST
            and getattr(c, "_kex_complete", False)  # sent, not deferred
            and first[0]
            and c._auth is None
            and _one_signature_each(c._client_keys)
        ):
            try_next_auth()  # the signed request follows the service request
            accept_pending[0] = True

    c.try_next_auth = try_next_auth
    c.send_packet = send_packet
    c._auth_methods = [PUBLICKEY]  # instead of `none`: the server's list comes on failure


def _one_signature_each(keys: Any) -> bool:
    """Whether each key signs one way only (ed25519, ECDSA), not as the host's
    server-sig-algs say (RSA: sha2-256, sha2-512 or sha1), which may not be in yet
    when the request follows the service request."""
    return all(len(getattr(key, "sig_algorithms", ())) == 1 for key in keys)


if _ClientPublicKeyAuth is not None:

    class _SignedFirst(_ClientPublicKeyAuth):  # type: ignore[misc]
        """asyncssh's public key auth without the query: the signed request at once."""

        first = False

        async def _start(self) -> None:
            conn: Any = self._conn
            self._keypair = await conn.public_key_auth_requested()
            if self._keypair is None:
                if self.first:  # no key to use, and the server has not said what it
                    # offers: ask it as asyncssh would have, with `none`
                    conn._auth_methods = [NONE]
                    conn.try_next_auth()
                    return
                conn.try_next_auth(next_method=True)
                return
            await self._send_signed_request()
