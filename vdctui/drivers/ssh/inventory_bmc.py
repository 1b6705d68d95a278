"""The `bmc*` keys of an inventory host: how the console reaches that host's BMC over Redfish.

```toml
bmc = "https://10.0.0.21"            # the BMC (iDRAC, iLO, XCC, OpenBMC...), https only
bmc_user = "fence"
bmc_password_file = "secrets/kvm-01.bmc"   # holds the password, or `env:NAME`
bmc_system = "System.Embedded.1"     # optional; default: the only system the BMC lists
bmc_ca = "certs/bmc-ca.pem"          # optional CA to verify the BMC's certificate
bmc_insecure = true                  # optional; skips TLS verification (warned)
```
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vdctui.drivers.bmc import BmcConfig, check_system_id, check_url

BMC_KEYS = ("bmc", "bmc_system", "bmc_user", "bmc_password_file", "bmc_ca", "bmc_insecure")
REFUSED = {
    "bmc_password": (
        "a BMC password is never written in the inventory; put it in a file "
        "and name that file with bmc_password_file"
    ),
}


class BadBmcKey(ValueError):
    def __init__(self, key: str, reason: str) -> None:
        super().__init__(f"{key!r}: {reason}.")
        self.key = key


def _text(raw: dict[str, Any], key: str) -> str | None:
    if key not in raw:
        return None
    value = raw[key]
    if not isinstance(value, str) or not value.strip():
        raise BadBmcKey(key, "must be a non-empty string")
    return value.strip()


def bmc_of(raw: dict[str, Any], base: Path) -> BmcConfig | None:
    """The host's BMC from its table, None without `bmc`; raises BadBmcKey naming the key."""
    for key, why in REFUSED.items():
        if key in raw:
            raise BadBmcKey(key, why)
    url = _text(raw, "bmc")
    if url is None:
        others = [key for key in BMC_KEYS if key in raw]
        if others:
            raise BadBmcKey(others[0], 'needs a bmc = "https://..." key on the same host')
        return None
    try:
        url = check_url(url)
    except ValueError as exc:
        raise BadBmcKey("bmc", f"{raw['bmc']!r}: {exc}") from None
    user = _text(raw, "bmc_user")
    password_file = _text(raw, "bmc_password_file")
    for key, value in (("bmc_user", user), ("bmc_password_file", password_file)):
        if value is None:
            raise BadBmcKey("bmc", f"needs {key} too (bmc_user and bmc_password_file)")
    assert user is not None and password_file is not None
    system = _text(raw, "bmc_system")
    if system is not None:
        try:
            check_system_id(system)
        except ValueError as exc:
            raise BadBmcKey("bmc_system", f"{system!r}: {exc}") from None
    secret = _path(base, password_file)
    if not secret.is_file():
        raise BadBmcKey("bmc_password_file", f"{str(secret)!r} is not a file")
    ca_text = _text(raw, "bmc_ca")
    ca = _path(base, ca_text) if ca_text is not None else None
    if ca is not None and not ca.is_file():
        raise BadBmcKey("bmc_ca", f"{str(ca)!r} is not a file")
    insecure = raw.get("bmc_insecure", False)
    if not isinstance(insecure, bool):
        raise BadBmcKey("bmc_insecure", "must be true or false")
    if insecure and ca is not None:
        raise BadBmcKey("bmc_insecure", "and bmc_ca contradict each other; keep one")
    return BmcConfig(url, user, secret, system, ca, insecure)


def _path(base: Path, value: str) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else base / path
