"""What the store raises: one clear sentence each."""

from __future__ import annotations


class StoreError(Exception):
    """A request the store cannot answer (unknown id, bad argument, bad file)."""


class SchemaTooNew(StoreError):
    """The file was written by a newer vdctui than this one."""

    def __init__(self, path: str, found: int, known: int) -> None:
        self.path = path
        self.found = found
        self.known = known
        super().__init__(
            f"{path} is at schema version {found}, but this vdctui knows only up to "
            f"version {known}; upgrade vdctui or open another file"
        )
