"""Dialogs collect an answer and return it (`dismiss(value)`); the caller acts on it
(see `vdctui.ui.actions`). None of them changes anything itself."""

from vdctui.ui.dialogs.ask import ConfirmDialog, MessageDialog, Question
from vdctui.ui.dialogs.forms import CreateDialog, CreateRequest, ResizeDialog, ResizeRequest
from vdctui.ui.dialogs.migrate import MigrateDialog

__all__ = [
    "ConfirmDialog",
    "CreateDialog",
    "CreateRequest",
    "MessageDialog",
    "MigrateDialog",
    "Question",
    "ResizeDialog",
    "ResizeRequest",
]
