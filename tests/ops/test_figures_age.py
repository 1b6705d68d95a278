"""Stale is stale, with its age: between two whole syncs (a big embedded fleet, read
through its change feed), CPU, memory and power figures and the trends are as the last
whole sync read them. The store keeps when that was, apart from when the states were
last read, so every process that shows a figure can say how old it is."""

from __future__ import annotations

from pathlib import Path

from tests.ops.test_sync_changes import incremental, running, small  # noqa: F401 - fixture
from vdctui.model import Role
from vdctui.ops import Console
from vdctui.ops.figures import FiguresAge
from vdctui.ops.identity import Identity
from vdctui.store import Store

LATER_S = 42.0


async def test_a_sync_of_the_changes_leaves_the_figures_as_old_as_the_last_whole_sync(
    tmp_path: Path,
    incremental: None,  # noqa: F811
) -> None:
    console, fleet = small(tmp_path)
    await console.sync()
    whole_at = console.store.last_seen()
    assert whole_at is not None
    figures = console.figures_age()
    assert figures.read_at == whole_at and not figures.behind  # read with the states
    assert figures.note(whole_at) == ""

    await console.driver.advance(LATER_S)  # type: ignore[attr-defined]
    fleet.suspend_vm(running(fleet)[0])
    await console.sync()
    assert not console.reconciler.whole  # the states were read, not the figures
    figures = console.figures_age()
    now = console.store_now()
    assert figures.states_at == now and figures.read_at == whole_at
    assert figures.behind
    assert figures.age(now) == LATER_S
    assert figures.note(now) == "figures 42s old"

    console.reconciler._whole_due = 0.0  # the next whole sync is due
    await console.sync()
    assert console.reconciler.whole
    assert not console.figures_age().behind


async def test_a_console_that_follows_the_store_sees_the_same_age(
    tmp_path: Path,
    incremental: None,  # noqa: F811
) -> None:
    console, fleet = small(tmp_path)
    await console.sync()
    whole_at = console.store.last_seen()
    await console.driver.advance(LATER_S)  # type: ignore[attr-defined]
    fleet.suspend_vm(running(fleet)[0])
    await console.sync()

    reader = Console(Store(tmp_path / "v.db"), console.driver, Identity("bob", Role.VIEWER))
    reader.follow_store()
    seen = reader.figures_age()
    assert seen.read_at == whole_at and seen.behind
    reader.store.close()


def test_a_row_s_figures_are_never_newer_than_the_row() -> None:
    figures = FiguresAge(read_at=100.0, states_at=160.0)
    assert figures.of_row(160.0) == 100.0  # seen now, its figures as of the whole sync
    assert figures.of_row(50.0) == 50.0  # its host stopped answering before
    assert figures.of_row(None) is None
    assert FiguresAge(read_at=None, states_at=160.0).of_row(160.0) is None  # unknown


def test_figures_never_read_are_of_unknown_age() -> None:
    assert FiguresAge(None, None).note(0.0) == ""  # nothing synced: nothing to say
    unknown = FiguresAge(read_at=None, states_at=160.0)
    assert unknown.behind and unknown.age(200.0) is None
    assert unknown.note(200.0) == "figures of unknown age"
