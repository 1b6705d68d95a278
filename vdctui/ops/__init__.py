"""The ops layer: every change an operator makes goes through here, once."""

from vdctui.ops.console import Console
from vdctui.ops.errors import Failed, Refused
from vdctui.ops.identity import Identity
from vdctui.ops.migration import MigrationRun

__all__ = ["Console", "Failed", "Identity", "MigrationRun", "Refused"]
