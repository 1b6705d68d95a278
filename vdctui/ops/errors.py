"""What ops raises when an operator's request cannot be carried out."""

from __future__ import annotations


class Refused(Exception):
    """The console refused a request before changing anything.

    The message is one sentence the operator can act on; it is also what the
    audit record of the refusal says.
    """


class NotAllowed(Refused):
    """Refused by the role check, before anything was asked or done: the sentence names
    who and their role (vdctui.ops.identity)."""


class Failed(Exception):
    """A change was attempted and did not complete (the host said no, or died)."""
