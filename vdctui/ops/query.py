"""The filter operators type: `web state:running host:rk1-h01 pool:db`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vdctui.model import Vm, VmState
from vdctui.ops.errors import Refused

KEYS = ("state", "host", "pool")


@dataclass(frozen=True, slots=True)
class VmQuery:
    """A parsed filter: a name substring and field equalities."""

    text: str | None = None
    state: VmState | None = None
    host: str | None = None
    pool: str | None = None

    def filters(self) -> dict[str, Any]:
        """Keyword arguments for `Console.vms`/`count_vms`."""
        return {"text": self.text, "state": self.state, "host": self.host, "pool": self.pool}

    def matches(self, vm: Vm) -> bool:
        """Whether the store would list `vm` under this filter (the name substring is
        case-insensitive, like SQLite's LIKE)."""
        return (
            (self.text is None or self.text.lower() in vm.name.lower())
            and (self.state is None or vm.state is self.state)
            and (self.host is None or vm.host == self.host)
            and (self.pool is None or vm.pool == self.pool)
        )


def parse_vm_query(text: str) -> VmQuery:
    """Words with `key:value` set a field; other words are a name substring."""
    words: list[str] = []
    fields: dict[str, Any] = {}
    for token in text.split():
        key, colon, value = token.partition(":")
        if not colon:
            words.append(token)
            continue
        if key not in KEYS:
            raise Refused(f"{key!r} is not a filter; use {', '.join(k + ':' for k in KEYS)}.")
        if not value:
            raise Refused(f"Say which {key}: {key}:VALUE.")
        if key == "state":
            try:
                fields["state"] = VmState.parse(value)
            except ValueError as exc:
                raise Refused(f"{exc}.") from None
        else:
            fields[key] = value
    return VmQuery(text=" ".join(words) or None, **fields)
