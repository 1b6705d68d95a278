"""asyncssh's options for a connection, prepared once for all the hosts that share them.

`asyncssh.SSHClientConnectionOptions(...)` takes ~0.2 ms a connection (the user names
through saslprep, the local user's passwd entry, paths expanded, algorithm lists checked,
a config object): a tenth of the console's CPU on a cold refresh of 50 emulated hosts.
Without an ssh_config, hosts reached as the same user with the same key and the pool's
settings differ in their host, port, tunnel and client only: their options are prepared
once, for the first of them, and copied for the others with those four set as asyncssh
sets them (tests/ssh/test_prepared_options.py compares each copy with what asyncssh
prepares). With an ssh_config, whose Host and Match blocks may set anything for any
host, every connection's options are prepared anew, as before; and so they are where
asyncssh's options are not as expected (another version).
"""

from __future__ import annotations

import asyncio
import copy
from typing import Any

import asyncssh
from asyncssh.constants import DEFAULT_PORT

PER_CONNECTION = ("host", "port", "tunnel", "client_factory")
_SET_HERE = ("orig_host", "host", "port", "tunnel", "protocol_factory", "config", "kwargs")


def _fits() -> bool:
    try:
        probe = asyncssh.SSHClientConnectionOptions(None, config=[], host="h", port=2)
    except Exception:  # pragma: no cover
        return False
    config = getattr(probe, "config", None)
    return all(hasattr(probe, name) for name in _SET_HERE) and isinstance(
        getattr(config, "_options", None), dict
    )


_FITS = _fits()


def _same(value: Any) -> Any:
    """A value as a key: itself when immutable, else the object (cached by the pool)."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return ("object", id(value))


class PreparedOptions:
    """Each connection's options: a copy of those prepared for the first like it."""

    def __init__(self) -> None:
        self._templates: dict[tuple[Any, ...], asyncssh.SSHClientConnectionOptions] = {}

    def for_connection(
        self,
        loop: asyncio.AbstractEventLoop,
        host: str,
        client_factory: Any,
        options: dict[str, Any],
    ) -> asyncssh.SSHClientConnectionOptions:
        """asyncssh.SSHClientConnectionOptions(None, loop=loop, host=host,
        client_factory=client_factory, **options), or a copy that equals it."""

        def prepared() -> asyncssh.SSHClientConnectionOptions:
            return asyncssh.SSHClientConnectionOptions(
                None, loop=loop, host=host, client_factory=client_factory, **options
            )

        if options.get("config") != [] or not _FITS:
            return prepared()
        shared = sorted((k, _same(v)) for k, v in options.items() if k not in PER_CONNECTION)
        # the template's kwargs keep the objects keyed by id alive, so no id is reused
        key = (id(loop), *shared)
        template = self._templates.get(key)
        if template is None:
            template = self._templates[key] = prepared()
        return _copied(template, host, client_factory, options)


def _copied(
    template: asyncssh.SSHClientConnectionOptions,
    host: str,
    client_factory: Any,
    options: dict[str, Any],
) -> asyncssh.SSHClientConnectionOptions:
    """The template for `host`, as asyncssh prepares options with no ssh_config."""
    c: Any = copy.copy(template)
    t: Any = template
    port = options.get("port", ())
    kwargs = {k: v for k, v in t.kwargs.items() if k not in PER_CONNECTION}
    kwargs.update({k: options[k] for k in ("port", "tunnel") if k in options})
    kwargs.update(host=host, client_factory=client_factory)
    c.kwargs = kwargs
    c.orig_host = c.host = host
    c.port = port if port != () else DEFAULT_PORT
    c.tunnel = options.get("tunnel")
    c.protocol_factory = client_factory
    config = c.config = copy.copy(t.config)
    config._orig_host = host
    config._options = dict(t.config._options)
    if port != ():
        config._options["Port"] = port
    else:
        config._options.pop("Port", None)
    return c  # type: ignore[no-any-return]
