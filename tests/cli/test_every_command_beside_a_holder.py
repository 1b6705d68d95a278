"""No command waits for the embedded fleet beside a process that holds it (issue 10).

The commands are not listed by hand: every command of `vdctui`'s click group, with the
arguments tests/cli/test_viewer_refusals.py gives it (a new command must be classified
there), runs as its own process, as an operator who may do it (--yes where it asks),
while `vdctui emulate` holds the fleet. Whatever it answers (done, or refused by the
holder for what the data center is), it must never be that the data center is in use,
or that the change needs the fleet itself after a wait: its reads and changes are handed
to the holder. VDCTUI_FLEET_WAIT_S is short, so a command that waited for the fleet's
lock says so ("waited 5 s"); this asserts what each says, never how long it took."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click
import pytest

from tests.cli.conftest import Vdctui
from tests.cli.test_shared_reads import holder  # noqa: F401 - the fixture
from tests.cli.test_viewer_refusals import COMMANDS, EVERY_COMMAND, Changes, Place, Reads
from tests.waiting import ENOUGH
from vdctui.cli.main import main
from vdctui.ops.identity import os_user
from vdctui.store import Store

ROOT = Path(__file__).resolve().parents[2]
WAITED = (
    "in use by",
    "(waited",
    "needs the embedded data center itself",  # a change not handed over (none may be)
    "still connecting",
    "Traceback",
)


def requests_asked(db: Path) -> int:
    with Store(db) as store:
        return int(store._db.execute("SELECT COUNT(*) FROM fleet_requests").fetchone()[0])


def forget_requests(db: Path) -> None:
    with Store(db) as store, store._db.atomic():
        store._db.execute("DELETE FROM fleet_requests")


def asks(path: str) -> bool:
    """Whether the command takes --yes (it would ask at a terminal)."""
    command: click.Command | None = main
    for word in path.partition(" (")[0].split():
        assert isinstance(command, click.Group)
        command = command.get_command(click.Context(command), word)  # a lazy one loaded
    assert command is not None, path
    return any("--yes" in p.opts for p in command.params)


# some 70 processes in turn, each bounded by ENOUGH: over 200 s on a loaded machine, so
# pytest's timeout (300 s, for a test that hangs) would end it while it still progresses
@pytest.mark.timeout(900)
def test_every_command_answers_beside_a_holder_without_waiting_for_the_fleet(
    vdctui: Vdctui,
    holder: subprocess.Popen[str],  # noqa: F811
    tmp_path: Path,
) -> None:
    place = Place(vdctui, tmp_path)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "VDCTUI_FLEET_WAIT_S": "5"}
    runs: list[list[str]] = []
    for path in sorted({*EVERY_COMMAND, *COMMANDS}):
        entry = COMMANDS[path]
        tries = [t for t, _ in entry.tries] if isinstance(entry, Changes) else []
        tries += [entry.args] if isinstance(entry, Reads) else []
        yes = ["--yes"] if asks(path) else []
        runs += [[*place.args(path, args), *yes] for args in tries]
    assert len(runs) > 60  # every command found, changes and reads
    waited = []
    for args in runs:
        proc = subprocess.run(
            [sys.executable, "-m", "vdctui", "--db", str(vdctui.db), *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=ENOUGH,
            stdin=subprocess.DEVNULL,
        )
        said = [w for w in WAITED if w in proc.stderr]
        if said:
            waited.append(f"vdctui {' '.join(args)}: {proc.stderr.strip()[-300:]}")
    assert waited == [], "\n".join(waited)
    assert holder.poll() is None


def test_every_change_a_viewer_tries_beside_a_holder_is_refused_in_one_sentence(
    vdctui: Vdctui,
    holder: subprocess.Popen[str],  # noqa: F811
    tmp_path: Path,
) -> None:
    """As in tests/cli/test_viewer_refusals.py, but beside the holder: the refusal is the
    one line said, naming the viewer, not preceded by a note on who holds the data
    center (nothing was asked of it; a refused change is one sentence), and it leaves no
    request row behind (a refused change has no side effect: `service drain` and
    `service enable`, one operation of two actions, wrote a request for the holder to
    refuse)."""
    place = Place(vdctui, tmp_path)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "VDCTUI_FLEET_WAIT_S": "5"}
    tried, said_more = 0, []
    for path in sorted(COMMANDS):
        entry = COMMANDS[path]
        for args, action in entry.tries if isinstance(entry, Changes) else ():
            tried += 1
            argv = ["--db", str(vdctui.db), "--read-only", *place.args(path, args)]
            proc = subprocess.run(
                [sys.executable, "-m", "vdctui", *argv],
                capture_output=True,
                text=True,
                env=env,
                timeout=ENOUGH,
                stdin=subprocess.DEVNULL,
            )
            lines = proc.stderr.strip().splitlines()
            if requests_asked(vdctui.db):
                said_more.append(f"vdctui {' '.join(argv[2:])}: wrote a request row")
                forget_requests(vdctui.db)
            role = f"needs the {action.role} role; {os_user()} is a viewer (read-only)."
            wanted = f"vdctui: {action.what} {role}"
            if proc.returncode != 1 or lines != [wanted]:
                said_more.append(f"vdctui {' '.join(argv[2:])}: {proc.stderr.strip()}")
    assert tried > 40
    assert said_more == [], "\n".join(said_more)
    assert holder.poll() is None
