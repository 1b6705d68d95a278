"""Who is at the console and what they may do.

The actor is the OS user of the process, by uid (not $LOGNAME or $USER, which
anyone can set). The role is the one an admin gave that user in the store
(`vdctui operator set`); a user not listed is a viewer. `$VDCTUI_ROLE` and
`--read-only` can lower it, never raise it, and a user who cannot write the
store's file is a viewer whatever the store says.
"""

from __future__ import annotations

import os
import pwd
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from vdctui.frozen import frozen
from vdctui.model import Operator, Role
from vdctui.ops.actions import Action
from vdctui.ops.errors import NotAllowed, Refused

if TYPE_CHECKING:
    from vdctui.ops.console import Console

ROLE_VARIABLE = "VDCTUI_ROLE"


def os_user() -> str:
    """The name of the process's real user (its uid), or uid-N when it has none."""
    return user_of(os.getuid())


def user_of(uid: int) -> str:
    """The name of the OS user `uid`, or uid-N when it has none."""
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid-{uid}"


def role_asked_for() -> Role | None:
    """The role $VDCTUI_ROLE asks for (None when unset); Refused when it names no role."""
    raw = os.environ.get(ROLE_VARIABLE, "").strip()
    if not raw:
        return None
    try:
        return Role(raw.lower())
    except ValueError:
        choices = ", ".join(r.value for r in Role)
        raise Refused(f"{ROLE_VARIABLE}={raw!r} is not a role (one of: {choices}).") from None


def lower(role: Role, other: Role) -> Role:
    """The lesser of two roles."""
    return role if other.allows(role) else other


# a role in a refusal's words ("nobody is a viewer (read-only)")
A_ROLE = {
    Role.VIEWER: "a viewer (read-only)",
    Role.OPERATOR: "an operator",
    Role.ADMIN: "an admin",
}


@frozen
class Identity:
    actor: str
    role: Role
    note: str = ""  # why the role is lower than the store says (shown once), or ""
    # where this console's data and changes go while another process holds the embedded
    # fleet (shown once, where it matters: not before a change refused by the role), or ""
    following: str = ""

    @property
    def notes(self) -> str:
        """Both notes, for a console that shows them once as it opens."""
        return " ".join(n for n in (self.note, self.following) if n)

    @classmethod
    def of_process(
        cls,
        stored_role: Callable[[str], Role | None],
        *,
        read_only: bool = False,
        writable: bool = True,
        where: str = "",
    ) -> Identity:
        """This process's OS user with the role `stored_role` gives it (viewer when
        unlisted), lowered by `read_only`, $VDCTUI_ROLE, or a store it cannot write."""
        actor = os_user()
        role = stored_role(actor) or Role.VIEWER
        notes: list[str] = []
        asked = role_asked_for()
        if asked is not None:
            if role.allows(asked):
                role = asked
            else:
                notes.append(
                    f"{ROLE_VARIABLE}={asked} cannot raise your role: {actor} is {role} "
                    "(an admin sets roles with `vdctui operator set`)."
                )
        if read_only:
            role = Role.VIEWER
        if not writable:
            role = Role.VIEWER
            notes.append(
                f"{actor} cannot write {where}: this console is read-only "
                "(ask for the data center's group to change things)."
            )
        return cls(actor, role, " ".join(notes))

    def check(self, action: Action) -> None:
        """Raise NotAllowed when this identity may not do `action` (Refused when it is no
        Action). One wording wherever it is said: in the asker's own process, and in the
        process that holds the fleet acting for it (whose console is not read-only)."""
        if not isinstance(action, Action):
            raise Refused(f"{action!r} is not an action this console knows; refused.")
        needed = action.role
        if self.role.allows(needed):
            return
        raise NotAllowed(
            f"{action.what} needs the {needed} role; {self.actor} is {A_ROLE[self.role]}."
        )


OS_USER_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,31}\$?$")


async def set_operator_role(console: Console, name: str, role: Role) -> Operator:
    """Give OS user `name` a role in this data center (admins only; audited). Refused for
    a name this host does not know as a user, or if no admin would be left."""

    async def work() -> Operator:
        if not OS_USER_NAME.match(name):
            raise Refused(f"{name!r} is not a user name.")
        try:
            pwd.getpwnam(name)
        except KeyError:
            raise Refused(f"There is no user named {name!r} on this host.") from None
        try:
            console.store.set_operator_role(name, role, actor=console.identity.actor)
        except ValueError as exc:
            raise Refused(f"{str(exc)[0].upper()}{str(exc)[1:]}.") from None
        return next(o for o in console.store.operators() if o.name == name)

    return await console.change(Action.OPERATOR_SET, name, {"role": role.value}, work)
