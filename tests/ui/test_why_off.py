"""Why a host is off, where the operator looks for it: the host pane says who powered it
off (the balancer, an operator, a fence) and when; the tree's host line and the rack's host
table say it in a word; a host the console did not power off says `—` (not known)."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Static

from tests.ui.conftest import SIZE, Opened, command, settle
from tests.ui.test_balance_wake_ui import apply_balance, small_fleet_app
from tests.ui.test_details import open_host
from tests.ui.test_truths import a_host
from vdctui.model import HostState
from vdctui.ops.why_off import off_sentence, off_word
from vdctui.store.power_offs import PowerOff
from vdctui.ui.screens.inventory import InventoryScreen


def tree_line(screen: InventoryScreen, host: str) -> str:
    """The host's line in the tree, up to its state and why (not its age as last seen)."""
    node = next(n for n in screen._all_nodes() if n.data == ("host", host))
    return str(node.label).split(" STALE")[0]


def pane(screen: InventoryScreen) -> str:
    return str(screen.query_one("#detail", Static).render())


def rack_state(screen: InventoryScreen, host: str) -> str:
    table = screen.side_table
    return str(table.get_row(host)[1])


def test_the_words_for_each_reason() -> None:
    off = a_host(state=HostState.OFF)
    now = 1000.0
    assert off_word(off, PowerOff(off.name, "balancer", "alice", 900.0)) == "balancer"
    assert off_word(off, PowerOff(off.name, "operator", "alice", 900.0)) == "operator"
    assert off_word(off, PowerOff(off.name, "fence", "alice", 900.0)) == "fenced"
    assert off_word(off, None) == "—"
    assert off_word(a_host(), None) == ""  # up: nothing to explain
    said = off_sentence(off, PowerOff(off.name, "operator", "alice", 880.0), now)
    assert said is not None and said.startswith("Powered off by alice (operator) 2m00s ago")
    said = off_sentence(off, PowerOff(off.name, "balancer", "bob", 940.0), now)
    assert said is not None and said.startswith("Powered off by the balancer (as bob) 1m00s ago")
    said = off_sentence(off, PowerOff(off.name, "fence", "ha", 990.0), now)
    assert said is not None and said.startswith("Fenced (powered off by ha after a failure) 10s")
    said = off_sentence(off, None, now)
    assert said is not None and said.startswith("Powered off by: — ")
    assert off_sentence(a_host(), None, now) is None


async def test_an_operators_a_fences_and_an_unknown_power_off_are_told_apart(
    opened: Opened,
) -> None:
    app, pilot, fleet = opened
    by_operator, fenced, by_itself = sorted(fleet.hosts)[:3]
    await command(pilot, f"power {by_operator} off force")
    await pilot.press("y")
    await settle(pilot)
    await command(pilot, f"fence {fenced}")
    await pilot.press("y")
    await settle(pilot)
    fleet.power_off_host(by_itself)  # behind the console's back
    await app.ops.sync()
    app.refresh_screen()
    await settle(pilot)
    screen = await open_host(pilot, by_operator)
    assert tree_line(screen, by_operator).endswith("off (operator)")
    assert tree_line(screen, fenced).endswith("off (fenced)")
    assert tree_line(screen, by_itself).endswith("off (—)")
    actor = app.ops.identity.actor
    assert f"Powered off by {actor} (operator)" in pane(screen)
    screen.select_host(fenced)
    await settle(pilot)
    assert f"Fenced (powered off by {actor} after a failure)" in pane(screen)
    screen.select_host(by_itself)
    await settle(pilot)
    assert "Powered off by: —" in pane(screen)
    screen._put_cursor(("rack", fleet.hosts[by_operator].rack))
    await settle(pilot)
    assert rack_state(screen, by_operator) == "off (operator)"
    assert rack_state(screen, fenced) == "off (fenced)"
    assert f"{by_operator} (off, operator)" in pane(screen)  # the rack's "Not up" line


async def test_the_hosts_the_balancer_powered_off_say_so(tmp_path: Path) -> None:
    fleet, app = small_fleet_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await apply_balance(pilot)
        off = sorted(h.name for h in fleet.hosts.values() if h.state == "off")
        assert off
        screen = await open_host(pilot, off[0])
        shown = {n.data[1] for n in screen._all_nodes() if n.data and n.data[0] == "host"}
        assert off[0] in shown
        assert all(tree_line(screen, h).endswith("off (balancer)") for h in off if h in shown)
        assert "Powered off by the balancer (as op)" in pane(screen)
