"""The ops layer: every change an operator makes goes through here, once.

Its names are imported on first use (PEP 562): importing one module of ops (the reads
of vdctui.ops.reads, for a CLI read beside the process that holds the fleet) does not
import the Console, its services and asyncio."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vdctui.ops.console import Console
    from vdctui.ops.errors import Failed, Refused
    from vdctui.ops.identity import Identity
    from vdctui.ops.migration import MigrationRun

__all__ = ["Console", "Failed", "Identity", "MigrationRun", "Refused"]

_WHERE = {
    "Console": "vdctui.ops.console",
    "Failed": "vdctui.ops.errors",
    "Refused": "vdctui.ops.errors",
    "Identity": "vdctui.ops.identity",
    "MigrationRun": "vdctui.ops.migration",
}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(_WHERE[name]), name)
    globals()[name] = value
    return value
