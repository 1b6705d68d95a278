"""The `:` line as an operator meets it: visible, completing, saying what is wrong."""

from __future__ import annotations

from textual.widgets import Footer, Static

from tests.ui.conftest import SIZE, MakeApp, Opened, command, fleet_of, notes, settle
from vdctui.ui.app import VdcApp
from vdctui.ui.widgets.command_line import CommandInput, CommandLine


def shown_text(app: VdcApp) -> str:
    """What the terminal shows, line by line."""
    return "\n".join(
        "".join(segment.text for segment in line) for line in app.screen._compositor.render_strips()
    )


def on_top(app: VdcApp, widget: object) -> bool:
    """Every cell of the widget's region is the widget's (or its children's): not covered."""
    region = widget.region  # type: ignore[attr-defined]
    screen = app.screen
    inside = screen.region.contains_region(region) and region.area > 0
    hit = {screen.get_widget_at(x, y)[0] for y in range(region.y, region.bottom) for x in (1,)}
    return inside and all(w is widget or widget in w.ancestors for w in hit)


async def test_the_command_line_is_seen_with_its_text_and_completions(make_app: MakeApp) -> None:
    app = make_app()
    for size in (SIZE, (100, 30)):
        async with app.run_test(size=size) as pilot:
            await settle(pilot)
            for screen_key in ("1", "2", "4", "6"):
                await pilot.press(screen_key, "colon", *"mig")
                await settle(pilot)
                line = app.screen.query_one(CommandLine)
                assert on_top(app, line.input), (size, screen_key, line.input.region)
                assert on_top(app, line.hint)
                footer = app.screen.query_one(Footer)
                assert not footer.region.overlaps(line.region)
                text = shown_text(app)
                assert "mig" in text and "migrate" in text and "migrations" in text
                await pilot.press("escape")
                await settle(pilot)
                assert not line.is_open
        app = make_app()


async def test_a_completed_command_takes_a_space_before_its_argument(opened: Opened) -> None:
    app, pilot, _ = opened
    await pilot.press("colon", *"spe", "tab", "1")
    await settle(pilot)
    assert app.screen.query_one(CommandInput).value == "speed 1"
    vm = sorted(fleet_of(app).vms)[0]
    await pilot.press(*["backspace"] * 7, *"start ", *vm[:-1], "tab")
    await settle(pilot)
    assert app.screen.query_one(CommandInput).value == f"start {vm} "
    hint = str(app.screen.query_one("#command-hint", Static).render())
    assert ":start VM..." in hint and "vms: " in hint  # what the next argument can be


async def test_a_line_that_cannot_run_stays_with_its_reason(opened: Opened) -> None:
    app, pilot, _ = opened
    await command(pilot, "frobnicate now")
    line = app.screen.query_one(CommandLine)
    assert line.is_open and line.value == "frobnicate now"
    assert "No command 'frobnicate'" in shown_text(app)
    await pilot.press("escape")
    await settle(pilot)
    vm = sorted(fleet_of(app).vms)[0]
    await command(pilot, f"resize {vm}")
    assert "Usage: :resize VM VCPUS|- [MEMORY]" in shown_text(app)
    await pilot.press("escape")
    await command(pilot, f"resize {vm} lots")
    assert "MEMORY" in str(line.hint.render()) and "lots" in str(line.hint.render())
    assert not notes(app)


async def test_resize_takes_the_memory_alone(opened: Opened) -> None:
    app, pilot, _ = opened
    vm = next(v for v in app.ops.vms(state="running") if v.max_memory_mib > v.memory_mib)
    memory = min(vm.max_memory_mib, vm.memory_mib + 1024)
    await command(pilot, f"resize {vm.name} {memory}MiB")
    assert fleet_of(app).vms[vm.name].memory_mib == memory, notes(app)
    assert fleet_of(app).vms[vm.name].vcpus == vm.vcpus
