"""Who is at the console and what they may do."""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass

from vdctui.model import Role
from vdctui.ops.errors import Refused

# What each kind of change needs. Reads need nothing beyond viewer.
NEEDED_ROLE: dict[str, Role] = {
    "vm.start": Role.OPERATOR,
    "vm.stop": Role.OPERATOR,
    "vm.destroy": Role.OPERATOR,
    "vm.reboot": Role.OPERATOR,
    "vm.suspend": Role.OPERATOR,
    "vm.resume": Role.OPERATOR,
    "vm.resize": Role.OPERATOR,
    "vm.create": Role.OPERATOR,
    "vm.delete": Role.OPERATOR,
    "vm.migrate": Role.OPERATOR,
    "task.cancel": Role.OPERATOR,
    "host.maintenance.enter": Role.OPERATOR,
    "host.maintenance.exit": Role.OPERATOR,
    "affinity.update": Role.OPERATOR,
    "affinity.delete": Role.OPERATOR,
    "vm.restart-priority": Role.OPERATOR,
    "balance.apply": Role.OPERATOR,
    "host.power-off": Role.ADMIN,
    "host.power-on": Role.ADMIN,
    "ha.restart": Role.OPERATOR,
    "ha.confirm-down": Role.ADMIN,
    "pool.update": Role.ADMIN,
    "pool.create": Role.ADMIN,
    "pool.delete": Role.ADMIN,
    "inventory.sync": Role.VIEWER,
    "fault.inject": Role.ADMIN,
}


@dataclass(frozen=True, slots=True)
class Identity:
    actor: str
    role: Role

    @classmethod
    def from_environment(cls, *, read_only: bool = False) -> Identity:
        """The OS user; role from VDCTUI_ROLE (default admin), viewer if read-only."""
        try:
            actor = getpass.getuser()
        except (KeyError, OSError):
            actor = f"uid-{os.getuid()}"
        if read_only:
            return cls(actor, Role.VIEWER)
        raw = os.environ.get("VDCTUI_ROLE", Role.ADMIN.value)
        try:
            role = Role(raw.strip().lower())
        except ValueError:
            choices = ", ".join(r.value for r in Role)
            raise Refused(f"VDCTUI_ROLE={raw!r} is not a role (one of: {choices}).") from None
        return cls(actor, role)

    def check(self, action: str) -> None:
        """Raise Refused when this identity may not do `action`."""
        needed = NEEDED_ROLE.get(action, Role.ADMIN)
        if not self.role.allows(needed):
            if self.role is Role.VIEWER:
                raise Refused(f"{action} needs the {needed} role; this console is read-only.")
            raise Refused(f"{action} needs the {needed} role; {self.actor} is {self.role}.")
