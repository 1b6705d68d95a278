"""The emulator's errors: every message is one clear sentence."""

from __future__ import annotations


class FleetError(Exception):
    """Something the fleet refused or could not do."""


class HostUnreachable(FleetError):
    """The host is down, crashed or cut off by a network partition."""


class NoSuchVm(FleetError):
    """No VM of that name is defined."""


class NoSuchHost(FleetError):
    """No host of that name exists."""


class InvalidOperation(FleetError):
    """The operation is not allowed in the current state."""


class FleetFileError(FleetError):
    """The fleet's file is damaged, emptied or cannot be written; the message names it."""
