"""The inventory file: which hosts the SSH backend manages and how to reach them.

```toml
known_hosts = "~/.ssh/known_hosts"   # optional; relative paths are from this file
ssh_config = "~/.ssh/config"         # optional: aliases, ProxyJump, users, ports
identity = "~/.ssh/id_ed25519"       # optional default key (else the agent / ssh_config)

[[hosts]]
name = "kvm-01"                      # the console's name for it
site = "par1"
room = "hall-a"
rack = "a01"
address = "root@10.0.0.11:22"        # or an ssh_config alias
jump = "ops@bastion.example.net"     # optional, like ProxyJump
identity = "~/.ssh/kvm_key"          # optional, overrides the default
uri = "qemu:///system"               # optional libvirt URI on the host
migration = "p2p"                    # optional: "p2p" (the source's libvirtd dials the
                                     # target) or "direct" (the source's virsh drives both)
bmc = "https://10.0.0.21"            # optional Redfish BMC: see inventory_bmc.py for bmc_* keys
```

A bad file raises `InventoryError` naming the file, the line and the key.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vdctui import checks
from vdctui.drivers.bmc import BmcConfig
from vdctui.drivers.ssh.commands import DEFAULT_URI
from vdctui.drivers.ssh.inventory_bmc import BMC_KEYS, REFUSED, BadBmcKey, bmc_of

REQUIRED = ("name", "site", "room", "rack", "address")
OPTIONAL_STR = ("jump", "identity", "uri", "model", "user", "migration")
MIGRATION_KINDS = ("p2p", "direct")
# number keys: (lowest, highest, whole number?); nan, inf and huge numbers are refused
NUMBERS: dict[str, tuple[float, float, bool]] = {
    "nic_gbps": (0.001, checks.MAX_NIC_GBPS, False),
    "reserved_cpus": (0, checks.MAX_CPUS, True),
    "reserved_memory_mib": (0, checks.MAX_MEMORY_MIB, True),
    "port": (1, 65535, True),
}
OPTIONAL_NUM = tuple(NUMBERS)
TOP_LEVEL = ("known_hosts", "ssh_config", "identity", "hosts", "adc")


class InventoryError(ValueError):
    """The inventory file cannot be used; the message names the line and the key."""


@dataclass(frozen=True, slots=True)
class Address:
    host: str
    user: str | None = None
    port: int | None = None

    def __str__(self) -> str:
        text = f"{self.user}@{self.host}" if self.user else self.host
        return f"{text}:{self.port}" if self.port else text


def parse_address(text: str) -> Address:
    """`[user@]host[:port]` (IPv6 in brackets); raises ValueError with the reason."""
    text = text.strip()
    user: str | None = None
    if "@" in text:
        user, _, text = text.rpartition("@")
        if not user:
            raise ValueError("the user before '@' is empty")
    port: int | None = None
    if text.startswith("["):
        host, sep, rest = text[1:].partition("]")
        if not sep:
            raise ValueError("a '[' is not closed")
        if rest:
            if not rest.startswith(":"):
                raise ValueError(f"{rest!r} after ']' is not ':PORT'")
            port = _port(rest[1:])
    elif text.count(":") == 1:
        host, _, port_text = text.partition(":")
        port = _port(port_text)
    else:
        host = text
    if not host or any(c.isspace() for c in host):
        raise ValueError("the host is empty or has spaces")
    return Address(host, user, port)


def _port(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ValueError(f"port {text!r} is not a number from 1 to 65535")
    return int(text)


@dataclass(frozen=True, slots=True)
class InventoryHost:
    name: str
    site: str
    room: str
    rack: str
    address: Address
    jump: Address | None = None
    identity: Path | None = None
    uri: str = DEFAULT_URI
    model: str = ""
    nic_gbps: float = 10.0
    reserved_cpus: int = 0
    reserved_memory_mib: int = 0
    migration: str = "p2p"  # how a live migration from this host is driven (MIGRATION_KINDS)
    bmc: BmcConfig | None = None  # its Redfish BMC, for power and fencing; None = none known
    line: int = 0


@dataclass(frozen=True, slots=True)
class Inventory:
    path: Path
    hosts: tuple[InventoryHost, ...]
    known_hosts: Path | None = None
    ssh_config: Path | None = None
    identity: Path | None = None
    warnings: tuple[str, ...] = ()  # usable but risky settings, one sentence each
    adcs: tuple[Any, ...] = ()  # InventoryAdc: the load balancers ([[adc]], inventory_adc.py)

    def host(self, name: str) -> InventoryHost | None:
        for host in self.hosts:
            if host.name == name:
                return host
        return None


def _lines_of_hosts(text: str) -> list[tuple[int, int]]:
    """(first, last) line numbers of each `[[hosts]]` table, in order."""
    starts = [
        i + 1
        for i, line in enumerate(text.splitlines())
        if re.match(r"\s*\[\[\s*hosts\s*\]\]", line)
    ]
    total = len(text.splitlines())
    ends = [s - 1 for s in starts[1:]] + [total]
    return list(zip(starts, ends, strict=True))


def _key_line(text: str, key: str, first: int, last: int) -> int:
    lines = text.splitlines()
    pattern = re.compile(rf"\s*(\"?){re.escape(key)}\1\s*=")
    for number in range(first, min(last, len(lines)) + 1):
        if pattern.match(lines[number - 1]):
            return number
    return first


def _path(base: Path, value: str) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else base / path


def load_inventory(path: Path) -> Inventory:
    """Read and check an inventory file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InventoryError(f"Cannot read the inventory {path}: {exc.strerror}.") from None
    except UnicodeDecodeError:
        raise InventoryError(f"The inventory {path} is not UTF-8 text.") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InventoryError(f"{path}: {exc} (not valid TOML).") from None
    base = path.parent
    top_lines = text.splitlines()

    def top_line(key: str) -> int:
        return _key_line(text, key, 1, len(top_lines))

    for key in data:
        if key not in TOP_LEVEL:
            raise InventoryError(
                f"{path} line {top_line(key)}: unknown key {key!r} "
                f"(expected {', '.join(TOP_LEVEL)})."
            )
    paths: dict[str, Path | None] = {}
    for key in ("known_hosts", "ssh_config", "identity"):
        value = data.get(key)
        if value is not None and (not isinstance(value, str) or not value):
            raise InventoryError(f"{path} line {top_line(key)}: {key!r} must be a path string.")
        paths[key] = _path(base, value) if value else None
    raw_hosts = data.get("hosts")
    if not isinstance(raw_hosts, list) or not raw_hosts:
        raise InventoryError(f"{path}: no [[hosts]] tables; list each host in one.")
    spans = _lines_of_hosts(text)
    hosts: list[InventoryHost] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(raw_hosts):
        first, last = spans[index] if index < len(spans) else (1, len(top_lines))
        hosts.append(_host(path, text, base, raw, first, last, seen))
    adcs = _adcs(path, text, base, data.get("adc"), seen)
    warnings = tuple(
        f"{path} line {host.line}: host {host.name!r} does not verify its BMC's TLS "
        "certificate (bmc_insecure = true)."
        for host in hosts
        if host.bmc is not None and host.bmc.insecure
    )
    return Inventory(
        path,
        tuple(hosts),
        paths["known_hosts"],
        paths["ssh_config"],
        paths["identity"],
        warnings,
        adcs,
    )


def _adcs(path: Path, text: str, base: Path, raw: Any, seen: dict[str, int]) -> tuple[Any, ...]:
    from vdctui.drivers.ssh.inventory_adc import InventoryAdc, adc_tables

    lines = text.splitlines()
    first = next((n + 1 for n, line in enumerate(lines) if line.strip() == "[[adc]]"), 1)
    try:
        tables = adc_tables(raw)
    except ValueError as exc:
        raise InventoryError(f"{path} line {first}: {exc}.") from None
    total = len(text.splitlines())
    return tuple(
        InventoryAdc(_host(path, text, base, table, first, total, seen), socket, kind)
        for table, socket, kind in tables
    )


def _host(
    path: Path, text: str, base: Path, raw: Any, first: int, last: int, seen: dict[str, int]
) -> InventoryHost:
    if not isinstance(raw, dict):
        raise InventoryError(f"{path} line {first}: each host must be a [[hosts]] table.")

    def where(key: str) -> str:
        return f"{path} line {_key_line(text, key, first, last)}"

    for key in raw:
        if key not in REQUIRED + OPTIONAL_STR + OPTIONAL_NUM + BMC_KEYS + tuple(REFUSED):
            raise InventoryError(f"{where(key)}: unknown host key {key!r}.")
    for key in REQUIRED:
        if key not in raw:
            label = f" {raw['name']!r}" if isinstance(raw.get("name"), str) else ""
            raise InventoryError(
                f"{path} line {first}: host{label} has no {key!r} "
                f"(every host needs {', '.join(REQUIRED)})."
            )
    for key in REQUIRED + OPTIONAL_STR:
        if key in raw and (not isinstance(raw[key], str) or not raw[key].strip()):
            raise InventoryError(f"{where(key)}: {key!r} must be a non-empty string.")
    numbers: dict[str, float] = {}
    for key, (low, high, whole) in NUMBERS.items():
        if key not in raw:
            continue
        try:
            if isinstance(raw[key], bool | str):  # TOML says what it is: 8 is not "8"
                raise checks.BadInput(f"{key!r} must be a number, not {checks.shown(raw[key])}.")
            if whole:
                numbers[key] = checks.whole_number(
                    raw[key], repr(key), low=int(low), high=int(high)
                )
            else:
                numbers[key] = checks.finite_number(raw[key], repr(key), low=low, high=high)
        except checks.BadInput as exc:
            raise InventoryError(f"{where(key)}: {exc}") from None
    for key in ("name", "site", "room", "rack"):
        what = "host" if key == "name" else key
        try:
            checks.name(raw[key], what)
        except checks.BadInput as exc:
            raise InventoryError(f"{where(key)}: {exc}") from None
    name = raw["name"]
    if name in seen:
        raise InventoryError(
            f"{where('name')}: host {name!r} is listed twice (first on line {seen[name]})."
        )
    seen[name] = _key_line(text, "name", first, last)
    try:
        address = parse_address(raw["address"])
        if "user" in raw and address.user is None:
            address = Address(address.host, raw["user"], address.port)
        if "port" in raw and address.port is None:
            address = Address(address.host, address.user, int(numbers["port"]))
    except ValueError as exc:
        raise InventoryError(f"{where('address')}: address {raw['address']!r}: {exc}.") from None
    migration = raw.get("migration", "p2p")
    if migration not in MIGRATION_KINDS:
        raise InventoryError(
            f"{where('migration')}: migration {migration!r} is not one of "
            f"{', '.join(MIGRATION_KINDS)}."
        )
    jump: Address | None = None
    if "jump" in raw:
        try:
            jump = parse_address(raw["jump"])
        except ValueError as exc:
            raise InventoryError(f"{where('jump')}: jump {raw['jump']!r}: {exc}.") from None
    try:
        bmc = bmc_of(raw, base)
    except BadBmcKey as exc:
        raise InventoryError(f"{where(exc.key)}: {exc}") from None
    return InventoryHost(
        name=name,
        site=raw["site"],
        room=raw["room"],
        rack=raw["rack"],
        address=address,
        jump=jump,
        identity=_path(base, raw["identity"]) if "identity" in raw else None,
        uri=raw.get("uri", DEFAULT_URI),
        model=raw.get("model", ""),
        nic_gbps=float(numbers.get("nic_gbps", 10.0)),
        reserved_cpus=int(numbers.get("reserved_cpus", 0)),
        reserved_memory_mib=int(numbers.get("reserved_memory_mib", 0)),
        migration=migration,
        bmc=bmc,
        line=first,
    )
