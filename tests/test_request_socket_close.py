"""The holder's request socket closed while an announced request is still being taken
(the console quitting): the request's work is stopped with it, not left to run on
against a store the holder is closing, where it ended in an unhandled traceback
('Cannot operate on a closed database') printed as the console exited."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

from vdctui.fleet_socket import Reply, RequestSocket, announce


async def test_closing_the_socket_stops_the_requests_being_taken(tmp_path: Path) -> None:
    loop = asyncio.get_running_loop()
    unhandled: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _loop, context: unhandled.append(context))
    taking = asyncio.Event()
    store_closed = False
    finished: list[int] = []

    async def on_request(request_id: int, digest: str, user: str, reply: Reply) -> str:
        taking.set()
        await asyncio.sleep(0.5)  # the request's work, under way as the holder quits
        if store_closed:
            raise RuntimeError("Cannot operate on a closed database.")
        finished.append(request_id)
        return "taken"

    holder = RequestSocket(tmp_path / "dc.db", on_request)
    await holder.open()
    asker = asyncio.create_task(announce(tmp_path / "dc.db", 7, "0" * 64))
    await asyncio.wait_for(taking.wait(), 5)
    await holder.close()
    store_closed = True  # what the holder closes once its socket is closed

    assert await asker == ""  # the asker hears no answer: its request was not taken
    await asyncio.sleep(0.7)  # past when the request's work would have gone on
    assert finished == []
    assert unhandled == []


async def test_a_socket_closed_while_it_opens_hears_no_one(tmp_path: Path) -> None:
    """The holder stopped while its socket was opening (a console quit as it started;
    seen under load in test_ctrl_c_on_a_quick_change_taken_but_not_carried_out_cancels_it):
    the socket listened on without its holder knowing it, so close() left it serving and
    a request announced after the stop was taken and carried out."""
    heard: list[int] = []

    async def on_request(request_id: int, digest: str, user: str, reply: Reply) -> str:
        heard.append(request_id)
        return "taken"

    holder = RequestSocket(tmp_path / "dc.db", on_request)
    opening = asyncio.ensure_future(holder.open())
    await asyncio.sleep(0)  # it bound and listens, and yields once more before it is done
    opening.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await opening
    await holder.close()
    assert await announce(tmp_path / "dc.db", 7, "0" * 64) == ""
    assert heard == []
