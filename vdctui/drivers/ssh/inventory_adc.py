"""`[[adc]]` tables of the inventory: the load balancers (HAProxy) in front of the VMs.

```toml
[[adc]]
name = "lb-01"                       # the console's name for it
address = "root@10.0.0.5"            # reached over SSH like a hypervisor (jump, identity too)
socket = "/run/haproxy/admin.sock"   # HAProxy's runtime API (stats socket ... level admin)
```
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vdctui.drivers.ssh.inventory import InventoryHost

ADC_KEYS = ("name", "address", "jump", "identity", "user", "port", "socket", "kind")
DEFAULT_SOCKET = "/run/haproxy/admin.sock"
PLACE = "adc"  # the site, room and rack an ADC's SSH host is filed under


@dataclass(frozen=True, slots=True)
class InventoryAdc:
    host: InventoryHost  # how to reach it over SSH
    socket: str = DEFAULT_SOCKET
    kind: str = "haproxy"


def adc_tables(raw: Any) -> list[tuple[dict[str, Any], str, str]]:
    """Each `[[adc]]` table as (the keys a host table takes, its socket, its kind); a
    ValueError names what is wrong."""
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(t, dict) for t in raw):
        raise ValueError("'adc' must be [[adc]] tables")
    found = []
    for table in raw:
        unknown = sorted(set(table) - set(ADC_KEYS))
        if unknown:
            raise ValueError(f"unknown [[adc]] key {unknown[0]!r}")
        socket = table.get("socket", DEFAULT_SOCKET)
        kind = table.get("kind", "haproxy")
        if not isinstance(socket, str) or not socket.startswith("/"):
            raise ValueError("an [[adc]] socket must be an absolute path")
        if kind != "haproxy":
            raise ValueError(f"[[adc]] kind {kind!r} is not known (haproxy)")
        host = {k: v for k, v in table.items() if k not in ("socket", "kind")}
        found.append(({**host, "site": PLACE, "room": PLACE, "rack": PLACE}, socket, kind))
    return found
