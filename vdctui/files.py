"""The console's files on disk: what goes wrong with them, said in one sentence.

The store (`--db`), the emulated fleet beside it and its lock file can be read-only,
missing, a directory, damaged, or missing a table. Whatever raised (an OSError, a
sqlite3 error, a store or fleet error), `explain` turns it into one sentence that
names the file and what to do; the CLI and the TUI both show that sentence. For a
sqlite3.DatabaseError it runs SQLite's own check (`PRAGMA quick_check`) on each of
the files to say which one is damaged and how.

It also checks a --db path before anything is opened, and runs file creation
under a private umask (`private_files`), so the db, its WAL and SHM files and
the keys beside it are never readable by other users, not even for a moment.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path

PRIVATE_UMASK = 0o077  # files 0600, folders 0700
QUICK_CHECK_LINES = 3  # problems quoted from SQLite's check


# What can go wrong with a file while a command or the console runs (the store's own
# errors are StoreError, an Exception; sqlite3's escape from the store only through bugs
# or damage): the UI turns these into `explain`'s sentence instead of a crash.
FILE_ERRORS: tuple[type[BaseException], ...] = (sqlite3.Error, OSError)


class FileProblem(Exception):
    """A file of the console cannot be used; the message is one sentence naming it."""


def check_db_path(db: Path) -> Path:
    """Refuse a --db that cannot name a file (`''`, a directory) before anything opens it."""
    text = str(db)
    if not text or text == "." or not db.name or db.name in (".", ".."):
        raise FileProblem("--db must name a file, like dc/vdctui.db (it was empty, or a folder).")
    if db.is_dir():
        raise FileProblem(f"--db {db} is a directory; give a file inside it, like {db}/vdctui.db.")
    return db


@contextlib.contextmanager
def private_files() -> Iterator[None]:
    """Create files (and folders) under umask 077 while inside: SQLite creates the db, its
    -wal and its -shm with the process umask, so this is the only way they are never
    world-readable, even between creation and a chmod. (The umask is per process: keep
    the block short, around the open.)"""
    old = os.umask(PRIVATE_UMASK)
    try:
        yield
    finally:
        os.umask(old)


def writable(path: Path) -> bool:
    """Whether this process may write `path` (an existing file, or a new one in its folder);
    SQLite also needs the folder for its journal."""
    folder = path.parent
    if path.exists() and not os.access(path, os.W_OK):
        return False
    return os.access(folder if str(folder) else Path("."), os.W_OK | os.X_OK)


def explain(exc: BaseException, files: Iterable[Path]) -> str:
    """One sentence for an error raised while using the console's `files`."""
    paths = [Path(p) for p in files]
    if isinstance(exc, sqlite3.Error):
        return _sqlite_sentence(exc, paths)
    if isinstance(exc, OSError):
        return os_sentence(exc)
    text = str(exc).strip() or type(exc).__name__
    return text if text.endswith((".", "?", "!")) else f"{text}."


def os_sentence(exc: OSError, doing: str = "use") -> str:
    """`Cannot use x/y.lock: it is a directory.` from an OSError that names its file."""
    name = exc.filename if exc.filename is not None else "a file"
    if exc.errno == errno.EISDIR:
        reason = "it is a directory"
    elif exc.errno in (errno.EACCES, errno.EPERM):
        reason = "permission denied (check its owner and mode, and its folder's)"
    elif exc.errno == errno.EROFS:
        reason = "the file system is read-only"
    elif exc.errno == errno.ENOSPC:
        reason = "no space left on the device"
    elif exc.errno == errno.ENOENT:
        reason = "no such file or folder"
    else:
        reason = (exc.strerror or str(exc)).rstrip(".").lower()
    return f"Cannot {doing} {name}: {reason}."


def _sqlite_sentence(exc: sqlite3.Error, paths: list[Path]) -> str:
    message = str(exc)
    if "readonly" in message or "read-only" in message:
        blocked = next((p for p in paths if p.exists() and not writable(p)), None)
        where = str(blocked) if blocked else " or ".join(str(p) for p in paths)
        return (
            f"{where} is read-only for you: look at it with --read-only, "
            "or fix its permissions (and its folder's)."
        )
    missing = re.match(r"no such table: (\w+)", message)
    if missing:
        table = missing.group(1)
        lacking = next((p for p in paths if _lacks_table(p, table)), None)
        where = str(lacking) if lacking else " or ".join(str(p) for p in paths)
        return (
            f"{where} has no {table!r} table: the file is damaged; restore it from a "
            "backup, or move it away to start anew."
        )
    if isinstance(exc, sqlite3.DatabaseError) and not isinstance(exc, sqlite3.OperationalError):
        for path in paths:
            problems = integrity_problems(path)
            if problems:
                return damaged_sentence(path, problems)
    if "unable to open" in message or "disk I/O" in message:
        return f"Cannot open {' or '.join(str(p) for p in paths)}: {message}."
    return f"SQLite failed on {' or '.join(str(p) for p in paths)}: {message}."


def damaged_sentence(path: Path, problems: list[str]) -> str:
    """`x.db is damaged (table vms): SQLite's integrity check says ...; restore it ...`."""
    tables = [p.removeprefix("table ") for p in problems if p.startswith("table ")]
    found = [p for p in problems if not p.startswith("table ")]
    quoted = "; ".join(found[:QUICK_CHECK_LINES])
    more = f" (and {len(found) - QUICK_CHECK_LINES} more)" if len(found) > QUICK_CHECK_LINES else ""
    where = f" (table {', '.join(tables)})" if tables else ""
    return (
        f"{path} is damaged{where}: SQLite's integrity check says {quoted}{more}; restore "
        "it from a backup, or move it away to start anew."
    )


def integrity_problems(path: Path, *, limit: int = 20) -> list[str]:
    """What SQLite's `PRAGMA quick_check` finds wrong in `path` ([] when it is sound, or
    when it does not exist); a file that is not a database at all says so."""
    if not path.is_file():
        return []
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        return [str(exc)]
    try:
        return quick_check(conn, limit=limit)
    finally:
        conn.close()


def quick_check(conn: sqlite3.Connection, *, limit: int = 20) -> list[str]:
    """SQLite's `PRAGMA quick_check` on an open database: [] when sound, else one line per
    problem, then `table NAME` for each table whose root page a problem names."""
    try:
        rows = conn.execute(f"PRAGMA quick_check({int(limit)})").fetchall()
    except sqlite3.DatabaseError as exc:
        return [str(exc), *(f"table {name}" for name in _unreadable_tables(conn))]
    lines = [
        line.strip()
        for (text,) in rows
        for line in str(text).splitlines()
        if line.strip() and not line.startswith("*** in database")
    ]
    if lines == ["ok"]:
        return []
    pages = {int(n) for line in lines for n in re.findall(r"\bpage (\d+)", line)}
    try:
        roots = conn.execute(
            "SELECT name, rootpage FROM sqlite_master WHERE type = 'table'"
        ).fetchall()
    except sqlite3.DatabaseError:
        roots = []
    return lines + [f"table {name}" for name, root in roots if root in pages]


def _unreadable_tables(conn: sqlite3.Connection) -> list[str]:
    """When the check of the whole file fails outright, the tables whose own check fails."""
    try:
        names = [
            row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        ]
    except sqlite3.DatabaseError:
        return []
    bad = []
    for name in names:
        try:
            rows = conn.execute(f"PRAGMA quick_check({_quoted(name)})").fetchall()
        except sqlite3.DatabaseError:
            bad.append(name)
            continue
        if [str(row[0]) for row in rows] != ["ok"]:
            bad.append(name)
    return bad


def _quoted(name: str) -> str:
    return "'" + name.replace("'", "''") + "'"


def _lacks_table(path: Path, table: str) -> bool:
    if not path.is_file():
        return False
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            row = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
            ).fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return False
    return row is None
