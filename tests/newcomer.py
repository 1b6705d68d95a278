"""A newcomer's machine for the install and README tests: a copy of the project as a
fresh clone has it, a fresh HOME, a fresh venv (nothing from the system's site-packages)
and a real terminal (tmux) to start the console in."""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IGNORED = shutil.ignore_patterns(
    ".git", "__pycache__", "*.egg-info", "build", "dist", ".venv", "*.db*", ".*_cache"
)
# the console's first screen once the fleet is loaded: its racks in the inventory tree
INVENTORY_SHOWN = re.compile(r"── [▶▼] rk\d+\b")


def project_files() -> list[str]:
    """The files a clone of this work tree would have: tracked ones and new ones that are
    not ignored (relative paths); without git, the tree less caches and build output."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
    )
    if listed.returncode == 0:
        names = listed.stdout.decode().split("\0")
        return sorted(name for name in names if name and (ROOT / name).is_file())
    return sorted(
        str(path.relative_to(ROOT))
        for path in ROOT.rglob("*")
        if path.is_file() and not any(IGNORED(str(path.parent), [part]) for part in path.parts)
    )


def copy_of_the_project(dest: Path) -> Path:
    """A copy of the project's files at `dest`, as a fresh clone has them."""
    for name in project_files():
        (dest / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, dest / name)
    return dest


def shared_dir() -> Path | None:
    """The project's shared/ folder beside the clone (or beside main, from a worktree)."""
    candidates = [ROOT.parent / "shared"]
    common = subprocess.run(
        ["git", "rev-parse", "--path-format=absolute", "--git-common-dir"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if common.returncode == 0:
        candidates.append(Path(common.stdout.strip()).parent.parent / "shared")
    return next((c for c in candidates if c.is_dir()), None)


def fresh_env(home: Path, venv: Path | None = None) -> dict[str, str]:
    """The environment of a newcomer's shell: a fresh HOME and XDG dirs, none of this
    session's Python paths or vdctui settings; `venv`'s bin first on PATH if given.
    pip keeps the real download cache (the same packages, fetched once)."""
    real_pip_cache = os.environ.get("PIP_CACHE_DIR") or str(Path.home() / ".cache" / "pip")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("VDCTUI_", "PYTHON", "XDG_", "PYTEST", "TMUX", "PIP_"))
        and k not in ("VIRTUAL_ENV", "HOME")
    }
    env.update(
        HOME=str(home),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_STATE_HOME=str(home / ".local" / "state"),
        PIP_CACHE_DIR=real_pip_cache,
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        PYTHONDONTWRITEBYTECODE="1",
        TERM="xterm-256color",
        LANG=os.environ.get("LANG", "C.UTF-8"),
    )
    if venv is not None:
        env["VIRTUAL_ENV"] = str(venv)
        env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    home.mkdir(parents=True, exist_ok=True)
    return env


def make_venv(path: Path, env: dict[str, str]) -> Path:
    """A fresh venv: its own pip, nothing from the system's site-packages."""
    subprocess.run([sys.executable, "-m", "venv", str(path)], env=env, check=True)
    return path


def run(command: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    """Run a command; its output is in the assertion message when it fails."""
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        **kwargs,  # type: ignore[call-overload]
    )
    assert done.returncode == 0, f"{command} exited {done.returncode}:\n{done.stdout}{done.stderr}"
    return done


class Tmux:
    """A tmux server of our own (its own socket), one window, for a real terminal."""

    def __init__(self, width: int = 120, height: int = 40) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="vdt-"))  # sockets need a short path
        self.socket = self.dir / "s"
        self.config = self.dir / "tmux.conf"
        self.config.write_text("set-option -g remain-on-exit on\n")  # to read a pane that ended
        self.status = self.dir / "status"  # the command's exit status, once it has ended
        self.size = (width, height)

    def tmux(self, *args: str, env: dict[str, str] | None = None) -> str:
        done = subprocess.run(
            ["tmux", "-S", str(self.socket), *args],
            capture_output=True,
            text=True,
            env=env,
            stdin=subprocess.DEVNULL,
        )
        assert done.returncode == 0, f"tmux {args}: {done.stderr}"
        return done.stdout

    def start(self, shell_command: str, *, cwd: Path, env: dict[str, str]) -> None:
        """Run `shell_command` (bash) in a new window; the pane stays once it exits. The
        shell writes the command's exit status itself: tmux 3.3a sometimes marks the pane
        dead (its terminal closed) and never reaps the process, so never knows its status
        (seen under load: a console quit with `q` left a zombie, the test waited 600 s)."""
        width, height = self.size
        recorded = f'{shell_command}\nprintf %s "$?" > {shlex.quote(str(self.status))}'
        self.tmux(
            "-f", str(self.config), "new-session", "-d", "-x", str(width), "-y", str(height),
            "-c", str(cwd), "bash", "--noprofile", "--norc", "-c", recorded,
            env=env,
        )  # fmt: skip

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-J")

    def exit_status(self) -> int | None:
        """The command's exit status once it has ended, else None."""
        with contextlib.suppress(FileNotFoundError):
            if written := self.status.read_text():
                return int(written)
        dead, status = self.tmux("display-message", "-p", "#{pane_dead} #{pane_dead_status}").split(
            " ", 1
        )
        return int(status) if dead == "1" and status.strip() else None  # the shell was killed

    def wait_for(self, shown: Callable[[str], bool], timeout: float) -> str:
        """Wait until the screen shows what `shown` looks for; fail if the command ends first."""
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if shown(screen):
                return screen
            status = self.exit_status()
            assert status is None, f"exited {status} before showing it:\n{screen}"
            assert time.monotonic() < deadline, f"not shown after {timeout:.0f} s:\n{screen}"
            time.sleep(0.5)

    def press(self, *keys: str) -> None:
        self.tmux("send-keys", *keys)

    def wait_for_exit(self, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        while (status := self.exit_status()) is None:
            assert time.monotonic() < deadline, f"still running:\n{self.screen()}"
            time.sleep(0.2)
        return status

    def close(self) -> None:
        subprocess.run(
            ["tmux", "-S", str(self.socket), "kill-server"], capture_output=True, check=False
        )
        shutil.rmtree(self.dir, ignore_errors=True)


def open_console_and_quit(tmux: Tmux, command: str, *, cwd: Path, env: dict[str, str]) -> str:
    """Start the console with `command` in tmux, wait for the inventory, quit with `q`;
    the screen it showed."""
    tmux.start(command, cwd=cwd, env=env)
    screen = tmux.wait_for(INVENTORY_SHOWN.search, timeout=600)
    tmux.press("q")
    # a console quit right after its first paint waits for the fleet it is still loading
    # (on a new db: building the demo), which on a loaded machine takes minutes: a bound
    status = tmux.wait_for_exit(timeout=600)
    assert status == 0, f"the console exited {status}:\n{tmux.screen()}"
    return screen
