"""An emulated host's interactive `virsh` (`virsh -c URI` with no command): commands read
from stdin a line at a time, answered the way virsh 9 does when its stdin is not a
terminal: a banner, then for each line the prompt and the line echoed, its output,
and the next prompt; errors on stderr. It ends with its stdin, or at `quit`/`exit`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .virsh import Virsh
from .virsh_host import probe_mark, probe_words
from .words import ShellInjection, Unbalanced, shell_sequence, shell_words

BANNER = (
    "Welcome to virsh, the virtualization interactive terminal.\n\n"
    "Type:  'help' for help with commands\n"
    "       'quit' to quit\n\n"
)
PROMPT = "virsh # "


def probe_then_interactive(command: str) -> str | None:
    """The mark of `awk -v mark=M PROBE PIDFILES; [LC_ALL=C] virsh [-c URI]` (the console's
    process probe run just before the virsh it keeps open), or None for anything else."""
    parts = shell_sequence(command)
    if len(parts) != 2 or not is_interactive(parts[1]):
        return None
    words = probe_words(parts[0])
    return probe_mark(words) if words is not None else None


def is_interactive(command: str) -> bool:
    """`[LC_ALL=C] virsh [-q] [-c URI]` and nothing more."""
    try:
        words = shell_words(command)
    except (ShellInjection, Unbalanced):
        return False
    while words and "=" in words[0] and not words[0].startswith("="):
        words.pop(0)
    if not words or words[0] != "virsh":
        return False
    rest = words[1:]
    while rest:
        flag = rest.pop(0)
        if flag in ("-c", "--connect") and rest:
            rest.pop(0)
        elif flag not in ("-q", "--quiet", "-r", "--readonly"):
            return False
    return True


async def converse(virsh: Virsh, process: Any, going: Callable[[], bool]) -> None:
    quiet = " -q" in f" {process.command}" or "--quiet" in process.command
    if not quiet:
        process.stdout.write(BANNER)
    process.stdout.write(PROMPT)
    async for line in process.stdin:
        if not going():
            return
        typed = str(line).rstrip("\n")
        if typed.strip() in ("quit", "exit"):
            process.stdout.write(typed + "\n")
            break
        result = await virsh.run_line(typed)
        if result.stderr:
            process.stderr.write(result.stderr)
        # one write (one SSH packet where it fits): the line echoed, its output, the prompt
        process.stdout.write(f"{typed}\n{result.stdout}{PROMPT}")
    process.exit(0)
