"""Every command README.md shows works as written, run as a newcomer runs it.

How README.md's commands are found and run (for whoever adds one):

- A command is a line of a code block: indented four spaces (after a blank line), or
  fenced as ```sh, ```bash or ```shell (other fences, like ```toml, are not commands).
  A line ending in `\\` goes on with the next; blank lines and `# ...` lines are skipped.
- All of them run in order, each with `bash -c`, in one newcomer's session: a fresh copy
  of the project as the working directory (the project's shared/ folder beside it), a
  fresh venv first on PATH, a fresh HOME and XDG dirs (so the default --db is fresh), no
  stdin. Each must exit 0.
- A command ending in `&` runs in the background: it is started, its PID kept, and at the
  end of its block it gets SIGINT (Ctrl-C) and must exit 0. If it has
  `--write-inventory FILE`, the commands after it wait until FILE lists its hosts.
- `PORT` in a command is the port of the first host address in the inventory written last.
- A command that opens the console (the TUI: `vdctui` or `vdctui console`, with only
  global options) runs in tmux: it passes once the inventory is on screen and `q` quits
  it with exit 0.
- An HTML comment `<!-- readme-test: KIND -->` alone on a line just above a block (blank
  lines between are fine, nothing else) changes how that block runs:
    `lab`   needs root, KVM and libvirt: runs only when VDCTUI_README_LAB=1, else skipped;
    `help`  each command runs with `--help` appended (benchmarks take minutes): the script
            exists, imports, and parses the options before it; paths it names must exist;
    `tests` the project's test command: runs here with `--collect-only -q` appended;
            .ci/run must run it exactly as written;
    `admin` a recipe that changes the machine itself (users, groups, /srv, a
            ~/.profile): not run; each command's program must exist (`command -v`).
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.newcomer import (
    ROOT,
    Tmux,
    copy_of_the_project,
    fresh_env,
    make_venv,
    open_console_and_quit,
    shared_dir,
)

KINDS = ("lab", "help", "tests", "admin")
MARKER = re.compile(r"<!--\s*readme-test:\s*(\S+)\s*-->")
FENCE = re.compile(r"^```\s*([\w-]*)")
SHELL_FENCES = ("sh", "bash", "shell")
GLOBAL_OPTIONS = {"--db": 1, "--inventory": 1, "--read-only": 0, "--json": 0}
COMMAND_TIMEOUT_S = 900


@dataclass(frozen=True)
class Block:
    line: int  # README.md's line of the block's first line
    kind: str  # "" or one of KINDS
    commands: tuple[str, ...]


def readme_blocks(text: str) -> list[Block]:
    """The README's code blocks of commands, in order, with their markers."""
    lines = text.splitlines()
    blocks: list[Block] = []
    marker: tuple[int, str] | None = None
    previous_blank = True
    i = 0
    while i < len(lines):
        line = lines[i]
        fence = FENCE.match(line)
        found = MARKER.fullmatch(line.strip())
        if found:
            if found.group(1) not in KINDS:
                raise ValueError(f"README.md line {i + 1}: unknown kind {found.group(1)!r}")
            marker = (i + 1, found.group(1))
        elif fence:
            end = next((j for j in range(i + 1, len(lines)) if lines[j].startswith("```")), None)
            if end is None:
                raise ValueError(f"README.md line {i + 1}: a fence that never closes")
            if fence.group(1) in SHELL_FENCES:
                blocks.append(_block(i + 2, marker, lines[i + 1 : end]))
            elif marker:
                raise ValueError(f"README.md line {marker[0]}: a marker above a non-shell block")
            marker, previous_blank, i = None, False, end + 1
            continue
        elif line.startswith("    ") and previous_blank:
            end = i
            while end < len(lines) and (lines[end].startswith("    ") or not lines[end].strip()):
                end += 1
            blocks.append(_block(i + 1, marker, [ln[4:] for ln in lines[i:end]]))
            marker, previous_blank, i = None, True, end
            continue
        elif line.strip() and marker:
            raise ValueError(f"README.md line {marker[0]}: a marker not followed by a block")
        previous_blank = not line.strip()
        i += 1
    if marker:
        raise ValueError(f"README.md line {marker[0]}: a marker not followed by a block")
    return blocks


def _block(line: int, marker: tuple[int, str] | None, body: list[str]) -> Block:
    commands: list[str] = []
    pending = ""
    for text in body:
        text = text.strip()
        if pending:
            text = f"{pending} {text}"
        if text.endswith("\\"):
            pending = text[:-1].rstrip()
            continue
        pending = ""
        if text and not text.startswith("#"):
            commands.append(text)
    return Block(line, marker[1] if marker else "", tuple(commands))


def words(command: str) -> list[str]:
    """The shell words and operators (`&&`, `&`, `;`, `|`) of a command, less its comment."""
    lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    return list(lexer)


def without_comment(command: str) -> str:
    """The command less its trailing `# comment` (a `#` starting a word, outside quotes)."""
    quote = ""
    for i, char in enumerate(command):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (i == 0 or command[i - 1].isspace()):
            return command[:i].rstrip()
    return command.rstrip()


def in_background(command: str) -> bool:
    return words(command)[-1:] == ["&"]


def opens_the_console(command: str) -> bool:
    """Does the last command of the line start the TUI (`vdctui [global options] [console]`)?"""
    last: list[str] = []
    for word in words(command):
        last = [] if word in ("&&", "||", ";", "|", "&") else [*last, word]
    if last[:1] != ["vdctui"]:
        return False
    rest = last[1:]
    while rest and rest[0] in GLOBAL_OPTIONS:
        rest = rest[1 + GLOBAL_OPTIONS[rest[0]] :]
    return rest[:1] in ([], ["console"])


def option_value(command: str, option: str) -> str | None:
    found = words(command)
    return found[found.index(option) + 1] if option in found[:-1] else None


def inventory_hosts(path: Path) -> list[dict[str, object]]:
    try:
        return list(tomllib.loads(path.read_text()).get("hosts", []))
    except (OSError, tomllib.TOMLDecodeError):
        return []  # not (fully) written yet


# --- fast checks of the README and this convention ------------------------------------


def test_the_readme_has_commands_and_its_markers_are_known() -> None:
    blocks = readme_blocks((ROOT / "README.md").read_text())
    assert sum(len(b.commands) for b in blocks) >= 10
    assert [b.kind for b in blocks].count("tests") == 1


def test_ci_runs_the_readmes_test_command_as_written() -> None:
    (tests,) = [b for b in readme_blocks((ROOT / "README.md").read_text()) if b.kind == "tests"]
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert [c for c in tests.commands if c.strip() in (ln.strip() for ln in ci)] == list(
        tests.commands
    )


def test_the_parser_reads_both_kinds_of_block_and_markers() -> None:
    text = "\n".join(
        [
            "Intro:",
            "",
            "    echo one   # a comment",
            "    echo two \\",
            "        continued",
            "",
            "```toml",
            'x = "not a command"',
            "```",
            "<!-- readme-test: lab -->",
            "```sh",
            "# only a comment",
            "echo three &",
            "```",
            "text",
            "",
            "<!-- readme-test: help -->",
            "",
            "    python bench/x.py",
        ]
    )
    assert readme_blocks(text) == [
        Block(3, "", ("echo one   # a comment", "echo two continued")),
        Block(12, "lab", ("echo three &",)),
        Block(19, "help", ("python bench/x.py",)),
    ]
    with pytest.raises(ValueError, match="unknown kind"):
        readme_blocks("<!-- readme-test: someday -->\n\n    echo")
    with pytest.raises(ValueError, match="not followed by a block"):
        readme_blocks("<!-- readme-test: lab -->\nsome text\n\n    echo")


def test_what_a_command_is() -> None:
    assert in_background("vdctui emulate --serve-ssh 127.0.0.1:0 &")
    assert not in_background("vdctui audit list && vdctui audit verify")
    assert opens_the_console("pip install -e . && vdctui")
    assert opens_the_console("vdctui --inventory inv.toml")
    assert opens_the_console("vdctui --db x.db console --speed 60")
    assert not opens_the_console("vdctui --inventory inv.toml host list")
    assert not opens_the_console("vdctui emulate --for 1d   # vdctui")
    assert option_value("a --write-inventory inv.toml &", "--write-inventory") == "inv.toml"
    assert without_comment("python x.py   # 10 # hosts") == "python x.py"
    assert without_comment("echo '# not' a#b \"#\" # comment") == "echo '# not' a#b \"#\""


# --- the README, run ----------------------------------------------------------------------


class Newcomer:
    """One newcomer's shell session: where the commands run and what they left running."""

    def __init__(self, tmp: Path) -> None:
        self.cwd = copy_of_the_project(tmp / "work" / "vdctui")
        shared = shared_dir()
        if shared is not None:
            (tmp / "work" / "shared").symlink_to(shared)
        home = tmp / "home"
        self.venv = make_venv(tmp / "venv", fresh_env(home))
        self.env = fresh_env(home, self.venv)
        self.logs = tmp / "logs"
        self.logs.mkdir()
        self.background: list[tuple[str, subprocess.Popen[bytes]]] = []
        self.inventory: Path | None = None

    def placeholders(self, command: str) -> str:
        if "PORT" not in words(command):
            return command
        assert self.inventory is not None, f"{command}: PORT, but no inventory was written"
        address = str(inventory_hosts(self.inventory)[0]["address"])
        return re.sub(r"\bPORT\b", address.rsplit(":", 1)[1], command)

    def run(self, command: str, kind: str) -> None:
        if kind == "admin":
            self.check_programs(command)
            return
        command = self.placeholders(without_comment(command))
        if kind in ("help", "tests"):
            command += " --help" if kind == "help" else " --collect-only -q"
        if kind == "help":
            self.check_paths(command)
        if in_background(command):
            self.start(command)
        elif opens_the_console(command):
            tmux = Tmux()
            try:
                open_console_and_quit(tmux, command, cwd=self.cwd, env=self.env)
            finally:
                tmux.close()
        else:
            done = subprocess.run(
                ["bash", "--noprofile", "--norc", "-o", "pipefail", "-c", command],
                cwd=self.cwd,
                env=self.env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=COMMAND_TIMEOUT_S,
            )
            assert done.returncode == 0, (
                f"`{command}` exited {done.returncode}:\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
            )
            if kind == "tests":
                assert re.search(r"^\d+ tests? collected", done.stdout, re.M), done.stdout[-3000:]

    def check_programs(self, command: str) -> None:
        """Each program the command line runs exists (the first word after an operator)."""
        first = True
        for word in words(command):
            if word in ("&&", "||", ";", "|", "&"):
                first = True
            elif first and "=" not in word:
                found = subprocess.run(
                    ["bash", "--noprofile", "--norc", "-c", f"command -v {shlex.quote(word)}"],
                    env=self.env,
                    capture_output=True,
                )
                assert found.returncode == 0, f"{command}: no program {word!r}"
                first = False

    def check_paths(self, command: str) -> None:
        for word in words(command):
            if "/" in word and not word.startswith("-"):
                if word.startswith("../shared/") and shared_dir() is None:
                    continue  # a clone without the project's shared/ folder beside it
                assert (self.cwd / word).exists(), f"{command}: {word} does not exist"

    def start(self, command: str) -> None:
        log = self.logs / f"background-{len(self.background)}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                ["bash", "--noprofile", "--norc", "-c", command.rstrip().removesuffix("&")],
                cwd=self.cwd,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, stopped as one below
            )
        self.background.append((command, process))
        written = option_value(command, "--write-inventory")
        if written is None:
            return
        self.inventory = self.cwd / written
        deadline = time.monotonic() + 300
        while not inventory_hosts(self.inventory):
            assert process.poll() is None, f"`{command}` ended:\n{log.read_text()}"
            assert time.monotonic() < deadline, f"`{command}`: no {written}:\n{log.read_text()}"
            time.sleep(0.2)

    def stop_background(self, *, check: bool = True) -> None:
        """Ctrl-C each background command (its process group, by its PID); each exits 0."""
        failures = []
        for command, process in self.background:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGINT)
            try:
                status = process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                status = process.wait()
            if status != 0:
                failures.append(f"`{command}` exited {status}")
        self.background = []
        assert not (check and failures), failures


def test_a_command_that_fails_fails_the_run(tmp_path: Path) -> None:
    newcomer = Newcomer(tmp_path)
    with pytest.raises(AssertionError, match="exited 3"):
        newcomer.run("true && exit 3   # a comment", "")
    with pytest.raises(AssertionError, match="no inventory was written"):
        newcomer.run("echo -p PORT", "")
    newcomer.run("umask 0007 && export X=1 && install -d /nonexistent/x", "admin")  # not run
    with pytest.raises(AssertionError, match="no program 'no-such-program'"):
        newcomer.run("true && no-such-program --flag", "admin")
    newcomer.run("sh -c 'trap \"exit 4\" INT; touch trapped; while :; do sleep 0.1; done' &", "")
    while not (newcomer.cwd / "trapped").exists():  # Ctrl-C before the trap is a plain kill
        time.sleep(0.05)
    with pytest.raises(AssertionError, match="exited 4"):
        newcomer.stop_background()


@pytest.mark.timeout(3600)
def test_every_readme_command_works_as_written(tmp_path: Path) -> None:
    newcomer = Newcomer(tmp_path)
    lab = os.environ.get("VDCTUI_README_LAB") == "1"
    skipped = []
    try:
        for block in readme_blocks((ROOT / "README.md").read_text()):
            if block.kind == "lab" and not lab:
                skipped.append(block.line)
                continue
            for command in block.commands:
                newcomer.run(command, block.kind)
            newcomer.stop_background()  # a block is a recipe: what it started ends with it
    finally:
        newcomer.stop_background(check=False)
    if skipped:
        print(f"README lab blocks skipped (VDCTUI_README_LAB=1 runs them): lines {skipped}")
