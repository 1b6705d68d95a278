"""A change handed to the process that holds the embedded fleet (issue 10), when that
process does not answer: withdrawn and said in one sentence after a bounded wait; and
when it lets the fleet go meanwhile: the asker takes the fleet and does it itself."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.cli.conftest import Vdctui
from tests.waiting import ENOUGH
from vdctui.backend import FleetLock, fleet_path
from vdctui.fleet_socket import Reply, RequestSocket
from vdctui.store import Store
from vdctui.store.requests import PENDING, WITHDRAWN

ROOT = Path(__file__).resolve().parents[2]


def requests(db: Path) -> list[tuple[int, str, str]]:
    with Store(db) as store:
        rows = store._db.execute("SELECT id, action, state FROM fleet_requests ORDER BY id")
        return [tuple(r) for r in rows]  # type: ignore[misc]


def running_vm(vdctui: Vdctui) -> str:
    return next(v["name"] for v in vdctui.json("vm", "list") if v["state"] == "running")


def stop(db: Path, vm: str, wait_s: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "vdctui", "--db", str(db), "vm", "stop", vm, "--yes"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT), "VDCTUI_FLEET_WAIT_S": wait_s},
    )


def test_a_holder_that_never_answers_is_said_and_nothing_is_changed(vdctui: Vdctui) -> None:
    vm = running_vm(vdctui)
    holder = FleetLock(fleet_path(vdctui.db), vdctui.db)
    holder.acquire()  # held, but nobody serves the requests
    try:
        asker = stop(vdctui.db, vm, "1")
        out, err = asker.communicate(timeout=ENOUGH)
    finally:
        holder.release()
    assert asker.returncode == 1, (out, err)
    assert "did not take the change within 1 s; nothing was changed." in err
    assert "Traceback" not in err
    assert [state for _, _, state in requests(vdctui.db)] == [WITHDRAWN]
    assert next(v for v in vdctui.json("vm", "list") if v["name"] == vm)["state"] == "running"


def test_when_the_holder_lets_go_the_asker_does_it_itself(vdctui: Vdctui) -> None:
    vm = running_vm(vdctui)
    holder = FleetLock(fleet_path(vdctui.db), vdctui.db)
    holder.acquire()
    try:
        asker = stop(vdctui.db, vm, "300")
        deadline = time.monotonic() + ENOUGH
        while [s for _, _, s in requests(vdctui.db)] != [PENDING]:
            assert asker.poll() is None and time.monotonic() < deadline, asker.communicate()
            time.sleep(0.05)
    finally:
        holder.release()  # the holder exits without taking the request
    out, err = asker.communicate(timeout=ENOUGH)
    assert asker.returncode == 0, err
    assert f"{vm}: in shutdown" in out or f"{vm}: shut off" in out
    assert [state for _, _, state in requests(vdctui.db)] == [WITHDRAWN]
    audit = vdctui.json("audit", "list")
    assert [(r["action"], r["result"]) for r in audit if r["target"] == vm][:1] == [
        ("vm.stop", "ok")
    ]


def test_a_read_the_holder_never_answers_is_said_as_a_read(vdctui: Vdctui) -> None:
    """A read handed to the holder (a VM's XML) that times out is said as a read: nothing
    was asked to change, so nothing is said about changes."""
    vm = running_vm(vdctui)
    holder = FleetLock(fleet_path(vdctui.db), vdctui.db)
    holder.acquire()  # held, but nobody serves the requests
    try:
        reader = subprocess.run(
            [sys.executable, "-m", "vdctui", "--db", str(vdctui.db), "vm", "xml", vm],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT), "VDCTUI_FLEET_WAIT_S": "1"},
            timeout=ENOUGH,
        )
    finally:
        holder.release()
    said = reader.stderr.strip().splitlines()[-1]
    assert reader.returncode == 1, reader.stderr
    assert said.endswith(
        f"holds the data center but did not answer the read (domain xml of {vm}) within 1 s."
    ), said
    assert "change" not in said and "Traceback" not in reader.stderr


def test_ctrl_c_while_the_holder_hears_the_announcement_withdraws_the_change(
    vdctui: Vdctui,
) -> None:
    """Ctrl-C while the asker's first announcement waits for the holder's answer: the
    change is withdrawn (it was left pending, for the holder to carry out after the
    asker had said "interrupted")."""
    vm = running_vm(vdctui)
    code, out, err = asyncio.run(interrupted_while_heard(vdctui.db, vm))
    assert code == 130, (out, err)
    assert b"Traceback" not in err
    assert [state for _, _, state in requests(vdctui.db)] == [WITHDRAWN]


async def interrupted_while_heard(db: Path, vm: str) -> tuple[int | None, bytes, bytes]:
    """`vm stop` beside a holder whose socket hears announcements and never answers,
    interrupted once its announcement is heard; its exit code and what it said."""
    holder = FleetLock(fleet_path(db), db)
    holder.acquire()
    heard = asyncio.Event()

    async def hears_but_never_answers(request_id: int, digest: str, user: str, reply: Reply) -> str:
        heard.set()
        await asyncio.sleep(ENOUGH)
        return ""

    sock = RequestSocket(db, hears_but_never_answers)
    await sock.open()
    try:
        asker = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "vdctui", "--db", str(db), "vm", "stop", vm, "--yes"),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": str(ROOT), "VDCTUI_FLEET_WAIT_S": "300"},
        )
        await asyncio.wait_for(heard.wait(), ENOUGH)
        asker.send_signal(signal.SIGINT)
        out, err = await asyncio.wait_for(asker.communicate(), ENOUGH)
    finally:
        await sock.close()
        holder.release()
    return asker.returncode, out, err
