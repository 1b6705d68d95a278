"""How old the figures are: stale is stale, with its age.

A whole sync reads every host's and VM's CPU, memory used and power (and adds a sample to
each trend); the syncs between two whole ones (from 10,000 VMs of an embedded fleet:
vdctui.ops.reconcile) read the states of what changed, and leave those figures as the
last whole sync read them, up to a minute before. The store keeps both times
(vdctui.store.figures); `FiguresAge` says whether the figures are older than the states,
and how much, in the words every screen and command uses.
"""

from __future__ import annotations

from vdctui.frozen import frozen
from vdctui.store import Store
from vdctui.units import format_duration


def age_words(seconds: float) -> str:
    """`42s`, `1m05s`: an age as the header says it."""
    seconds = max(seconds, 0.0)
    return f"{int(seconds)}s" if seconds < 60 else format_duration(seconds)


@frozen
class FiguresAge:
    """When the figures were last read (a whole sync), and the states (any sync), in the
    store's time; None: never, as far as the store knows."""

    read_at: float | None
    states_at: float | None

    @property
    def behind(self) -> bool:
        """Whether the figures are older than the states (the last sync read only what
        changed), or of unknown age while the states are known."""
        if self.states_at is None:
            return False
        return self.read_at is None or self.read_at < self.states_at

    def age(self, now: float) -> float | None:
        """Seconds since the figures were read; None when not known."""
        return None if self.read_at is None else max(now - self.read_at, 0.0)

    def note(self, now: float) -> str:
        """ "" when the figures are as new as the states; else "figures 42s old"."""
        if not self.behind:
            return ""
        age = self.age(now)
        return "figures of unknown age" if age is None else f"figures {age_words(age)} old"

    def as_read(self, what: str, now: float, *, with_states: bool = False) -> str:
        """ "" when the figures are as new as the states; else "`what` as read 42s ago"
        (or "... of unknown age"), and `with_states`: "; the states as of 2s ago"."""
        if not self.behind:
            return ""
        age = self.age(now)
        said = f"{what} of unknown age" if age is None else f"{what} as read {age_words(age)} ago"
        if with_states and self.states_at is not None:
            said += f"; the states as of {age_words(now - self.states_at)} ago"
        return said

    def of_row(self, seen_at: float | None) -> float | None:
        """When the figures of a host or VM last seen at `seen_at` were read: as of the
        whole sync, or as of when it was last seen if that is older (its host stopped
        answering); None when either is unknown."""
        if seen_at is None or self.read_at is None:
            return None
        return min(seen_at, self.read_at)


PLANNED_ON = "planned on figures"
"""A balancer's plan, as made on the figures (`:balance`, `vdctui balance`):
`figures.as_read(PLANNED_ON, now)` says how old they were when they are behind."""
RANKED_ON = "ranked on figures"
"""The hosts the scheduler ranked for a VM (the migrate dialog), likewise."""


def figures_age(store: Store) -> FiguresAge:
    """The figures' age as the store holds it (written by whichever process syncs)."""
    return FiguresAge(store.figures_read_at(), store.last_seen())
