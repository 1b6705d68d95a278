"""Simulate, within one test process, the death of the process that owned some tasks."""

from __future__ import annotations

from vdctui.store import Store
from vdctui.store.owners import Owner


def its_process_died(store: Store) -> None:
    """The tasks `store` created so far belong to a process that is gone (their
    session ends); what it does from now on belongs to a new, live one."""
    store.owner.close()
    store.owner = Owner.this_process()
    store.owner.open()
