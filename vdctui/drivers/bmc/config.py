"""How to reach one host's BMC: the `bmc*` keys of an inventory host, checked.

The password never sits in the inventory: `bmc_password_file` names a file that holds it,
or holds `env:NAME` naming an environment variable that does. It is read when the console
connects, not when the inventory is loaded.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

# a Redfish resource id as it appears in a URI segment (e.g. "1", "System.Embedded.1", a UUID)
_SYSTEM_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:~-]{0,127}")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class BmcError(Exception):
    """A BMC could not be used; the message is one sentence an operator can act on."""


class BmcNoAnswer(BmcError):
    """The BMC did not answer (timeout, unreachable): a change may or may not have happened."""


@dataclass(frozen=True, slots=True)
class BmcConfig:
    url: str  # "https://host[:port]", no path
    user: str
    password_file: Path
    system: str | None = None  # the ComputerSystem id; None = the only one there is
    ca: Path | None = None  # verify the BMC's certificate against this CA bundle
    insecure: bool = False  # TLS not verified (written explicitly in the inventory)

    def password(self) -> str:
        return read_password(self.password_file)


def check_url(text: str) -> str:
    """`https://host[:port]` with nothing after it; raises ValueError with the reason."""
    parts = urlsplit(text.strip())
    if parts.scheme != "https":
        raise ValueError("it must start with https:// (a BMC is reached over TLS)")
    if not parts.hostname or any(c.isspace() for c in parts.netloc):
        raise ValueError("the host is empty or has spaces")
    if parts.username or parts.password:
        raise ValueError("credentials belong in bmc_user and bmc_password_file, not the URL")
    try:
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        raise ValueError("the port is not a number from 1 to 65535") from None
    if parts.path.strip("/") or parts.query or parts.fragment:
        raise ValueError("give only https://host[:port]; the Redfish paths are found from there")
    return f"https://{parts.netloc}"


def check_system_id(text: str) -> str:
    if not _SYSTEM_ID.fullmatch(text):
        raise ValueError("it is not a Redfish system id (letters, digits, . _ : ~ -)")
    return text


def read_password(path: Path) -> str:
    """The password in the file, or in the environment variable the file names (`env:NAME`)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise BmcError(f"Cannot read the BMC password file {path}: {exc.strerror}.") from None
    except UnicodeDecodeError:
        raise BmcError(f"The BMC password file {path} is not UTF-8 text.") from None
    secret = text.rstrip("\r\n")
    if secret.startswith("env:"):
        name = secret[4:].strip()
        if not _ENV_NAME.fullmatch(name):
            raise BmcError(f"The BMC password file {path} names no valid environment variable.")
        value = os.environ.get(name)
        if not value:
            raise BmcError(f"The environment variable {name} named in {path} is not set.")
        return value
    if not secret:
        raise BmcError(f"The BMC password file {path} is empty.")
    return secret
