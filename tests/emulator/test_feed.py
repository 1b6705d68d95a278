"""The fleet's change feed: which objects changed since a version of it."""

from __future__ import annotations

from emulator import ChangeFeed

from .conftest import add_vm, small_fleet


def test_the_objects_changed_since_a_version_by_kind() -> None:
    f = small_fleet()
    add_vm(f, "a", workload="walk:0.5")
    add_vm(f, "b", host="rb1")
    version = f.feed.version
    f.suspend_vm("a")
    f.resume_vm("a")
    f.crash_host("rb1")
    changes = f.feed.since(version)
    assert changes is not None and changes.version == f.feed.version > version
    assert changes.of("vm") == {"a", "b"}  # b crashed with its host
    assert changes.of("host") == {"rb1"}
    assert f.feed.since(changes.version).changed == {}  # nothing since


def test_what_is_gone_is_said() -> None:
    f = small_fleet()
    add_vm(f, "a", start=False)
    version = f.feed.version
    f.undefine_vm("a")
    changes = f.feed.since(version)
    assert changes is not None and ("vm", "a") in changes.gone


def test_figures_that_move_are_no_changes() -> None:
    f = small_fleet()
    add_vm(f, "a", workload="walk:0.5")
    version = f.feed.version
    f.step(3600)  # the walk moves a's CPU every 10 s, and the hosts' power with it
    changes = f.feed.since(version)
    assert changes is not None and changes.changed == {}


def test_a_reader_the_feed_left_behind_is_told_so() -> None:
    feed = ChangeFeed(limit=3)
    feed.record("vm", "a")
    version = feed.version
    for name in ("b", "c", "d", "e"):
        feed.record("vm", name)
    assert feed.since(version) is None  # b's change is no longer held
    assert feed.since(feed.version - 3) is not None
    assert feed.since(feed.version + 1) is None  # not a version of this feed
