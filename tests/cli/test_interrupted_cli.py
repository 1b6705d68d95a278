"""After kill -9 during `host maintenance NAME --yes`: `host list` shows the evacuation
interrupted; `--resume` carries it on, `--cancel` gives it up."""

from __future__ import annotations

from tests.cli.conftest import Vdctui
from vdctui.model import TaskState
from vdctui.store import Store


def killed_during_evacuation(vdctui: Vdctui) -> str:
    hosts = vdctui.json("host", "list")
    host = next(
        h["name"]
        for h in hosts
        if h["vm_count"]
        and h["state"] == "up"
        and not vdctui.json("host", "maintenance", h["name"], "--plan")[0]["stuck"]
    )
    with Store(vdctui.db) as store:  # what the killed process left
        task = store.create_task("maintenance", host, "alice")
        store.update_task(task.id, state=TaskState.RUNNING)
        store.set_maintenance(host, True, actor="alice", reason="entering")
    return host


def test_an_interrupted_evacuation_is_listed_and_cancelled(vdctui: Vdctui) -> None:
    host = killed_during_evacuation(vdctui)
    listed = {h["name"]: h for h in vdctui.json("host", "list")}
    assert listed[host]["maintenance"] == "interrupted"
    table = vdctui("host", "list").stdout
    assert "interrupted" in next(line for line in table.splitlines() if line.startswith(host))
    tasks = vdctui.json("task", "list")
    assert tasks[0]["state"] == "failed" and "interrupted" in tasks[0]["error"]
    done = vdctui("host", "maintenance", host, "--cancel")
    assert done.exit_code == 0 and "evacuation cancelled" in done.stdout
    assert {h["name"]: h for h in vdctui.json("host", "list")}[host]["maintenance"] is None


def test_an_interrupted_evacuation_is_resumed(vdctui: Vdctui) -> None:
    host = killed_during_evacuation(vdctui)
    vdctui.json("host", "list")  # the next start: the evacuation is marked interrupted
    result = vdctui("host", "maintenance", host, "--resume", "--yes")
    assert result.exit_code == 0, result.output
    assert {h["name"]: h for h in vdctui.json("host", "list")}[host]["maintenance"] == (
        "maintenance"
    )
