"""Migrations told as the operator wants to hear them: the moves of one task (a balance,
an evacuation: thirty VMs) are one notification once that task has ended, with how many
succeeded and the ones that did not named (`Balance: 30 migrations: 28 succeeded, 2
failed (web-001, web-007).`); a migration of its own is said on its own, as it ends."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.timer import Timer

from vdctui.model import FleetEvent
from vdctui.ops import Refused

if TYPE_CHECKING:
    from vdctui.ui.app import VdcApp

QUIET_S = 2.0  # how often the held migrations' tasks are looked at, to tell the ended ones
SHOWN = 5  # names in a summary; the count says the rest
OUTCOMES = ("succeeded", "failed", "cancelled")  # in the order a summary says them


def migration_summary(what: str, vms: dict[str, list[str]]) -> str:
    """`Balance: 30 migrations: 28 succeeded, 2 failed (web-001, web-007).`: each outcome
    counted, the VMs of each but the successes named (a few; the count says the rest)."""
    total = sum(len(names) for names in vms.values())
    noun = "migration" if total == 1 else "migrations"
    parts = []
    for outcome in sorted(vms, key=lambda o: (OUTCOMES + (o,)).index(o)):
        names = vms[outcome]
        part = f"{len(names)} {outcome}"
        if outcome != "succeeded":
            part += f" ({', '.join(names[:SHOWN])}{', …' if len(names) > SHOWN else ''})"
        parts.append(part)
    if len(parts) == 1:
        return f"{what}: {total} {noun} {parts[0].split(' ', 1)[1]}."
    return f"{what}: {total} {noun}: {', '.join(parts)}."


class MigrationToasts:
    """Holds the migrations of a task carried out in steps until the task ends, then
    tells them in one notification; tells any other migration at once."""

    def __init__(self, app: VdcApp) -> None:
        self.app = app
        self._held: dict[int, dict[str, list[str]]] = {}  # task -> outcome -> VMs
        self._timer: Timer | None = None

    def heard(self, event: FleetEvent) -> None:
        if event.part_of is None or event.vm is None:
            self._tell_one(event)
            return
        outcome = event.kind.removeprefix("migration.")
        self._held.setdefault(event.part_of, {}).setdefault(outcome, []).append(event.vm)
        if self._timer is None:
            self._timer = self.app.set_interval(QUIET_S, self._tell_ended)

    def _tell_one(self, event: FleetEvent) -> None:
        ok = event.kind.endswith("succeeded")
        self.app.notify(event.message, severity="information" if ok else "warning")

    def _tell_ended(self) -> None:
        for task_id in list(self._held):
            try:
                task = self.app.ops.task(task_id)
            except Refused:  # no longer in the store: told as it is
                task = None
            if task is not None and not task.state.finished:
                continue
            vms = self._held.pop(task_id)
            what = _what(task.kind, task.target) if task is not None else f"Task {task_id}"
            quiet = set(vms) == {"succeeded"}
            self.app.notify(
                migration_summary(what, vms), severity="information" if quiet else "warning"
            )
        if not self._held and self._timer is not None:
            self._timer.stop()
            self._timer = None


def _what(kind: str, target: str) -> str:
    if kind == "balance":
        return "Balance"
    if kind == "maintenance":
        return f"Evacuation of {target}"
    return f"{kind.capitalize()} {target}"
