"""What the `:` line can complete: command names, then VM, host, flavor and pool names.

Pure functions of the line and a console, so Tab, the inline suggestion and the hint under
the line all agree.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.suggester import Suggester

from vdctui.ops import Console
from vdctui.ops.power import POWER_CHOICES
from vdctui.ui.commands import ALIASES, COMMANDS, Command

SHOWN = 8  # candidates listed under the line


@dataclass(frozen=True)
class Completion:
    """Where the line stands: the command being typed (if known) and what could come next."""

    command: Command | None
    kind: str  # what the word being typed is: "command", "vm", "host", ... or ""
    candidates: tuple[str, ...]  # full words that complete the word being typed
    prefix: str  # the word being typed


def command_named(word: str) -> Command | None:
    return COMMANDS.get(ALIASES.get(word, word))


def complete(console: Console, line: str) -> Completion:
    words = line.split(" ")
    if len(words) == 1:
        names = sorted(COMMANDS) + sorted(ALIASES)
        found = tuple(n for n in names if n.startswith(words[0]))
        return Completion(command_named(words[0]), "command", found, words[0])
    command = command_named(words[0])
    if command is None:
        return Completion(None, "", (), words[0])  # the unknown command, not its argument
    kind = command.completes_at(len(words) - 2)
    return Completion(command, kind, tuple(_names(console, kind, words[-1])), words[-1])


def completed_line(console: Console, line: str) -> str | None:
    """The line with its last word completed (the first candidate) and a space after it,
    ready for the next argument; None when nothing completes it."""
    done = complete(console, line)
    if not done.prefix:
        return None
    word = next((c for c in done.candidates if c != done.prefix), None)
    if word is None:
        return None
    head = line[: len(line) - len(done.prefix)]
    return f"{head}{word} "


def _names(console: Console, kind: str, prefix: str) -> list[str]:
    names: list[str]
    if kind == "vm":
        names = [vm.name for vm in console.vms(text=prefix, limit=50)]
    elif kind == "host":
        names = [host.name for host in console.hosts()]
    elif kind == "flavor":
        names = [flavor.name for flavor in console.flavors()]
    elif kind == "pool":
        names = [usage.pool.name for usage in console.pools()]
    elif kind == "power":
        names = list(POWER_CHOICES)
    else:
        return []
    return sorted(n for n in names if n.startswith(prefix))


class CommandSuggester(Suggester):
    """The grey suggestion after the cursor: what Tab would give."""

    def __init__(self, console: Console) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self._console = console

    async def get_suggestion(self, value: str) -> str | None:
        line = completed_line(self._console, value)
        return line.rstrip() if line else None
