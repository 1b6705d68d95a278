"""The console's SQLite memory: inventory, pools, tasks, history and audit.

Takes and returns the domain types of `vdctui.model`; never rows or dicts.
"""

from vdctui.store.audit import AuditEntry
from vdctui.store.errors import SchemaTooNew, StoreError
from vdctui.store.history import INTERRUPTED
from vdctui.store.store import Store

__all__ = ["INTERRUPTED", "AuditEntry", "SchemaTooNew", "Store", "StoreError"]
