"""The TUI refuses absurd numbers on its command line in one notification, and shows names
from hosts that break the grammar escaped, never as markup or terminal sequences (issue 9)."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable

from tests.ui.conftest import SIZE, MakeApp, Opened, notes, settle
from vdctui.ui.commands import execute
from vdctui.ui.widgets.paged_table import PagedTable

HOSTILE = "[bold]evil[/]\x1b]0;owned\x07\x1b[2J"


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("cancel 99999999999999999999", "A task number must be"),
        ("cancel ²", "A task number must be a whole number"),
        ("speed nan", "The speed must be a number"),
        ("speed inf", "The speed must be from"),
        ("create web-x small web 99999999999", "The count must be"),
        ("resize batch-001 99999999999999999999999", "VCPUS must be"),
        ("balance spread 9" + "9" * 50, "The threshold"),
    ],
)
async def test_absurd_numbers_on_the_command_line(opened: Opened, line: str, says: str) -> None:
    app, pilot, _ = opened
    why = await execute(app, line)
    await settle(pilot)
    assert why is not None and says in why, why
    assert app.is_running


async def test_a_name_from_a_host_is_shown_escaped(opened: Opened) -> None:
    app, pilot, fleet = opened
    host = sorted(fleet.hosts)[0]
    fleet.define_vm(HOSTILE, host, vcpus=1, memory_mib=512)
    await app.ops.sync()
    await pilot.press("2")
    await settle(pilot)
    table = app.screen.query_one(PagedTable)
    names = [row[1] for row in table._rows]
    escaped = "[bold]evil[/]\\x1b]0;owned\\x07\\x1b[2J"
    assert escaped in names
    assert not any("\x1b" in cell for row in table._rows for cell in row)
    why = await execute(app, f"migrate {HOSTILE} nowhere")  # a refusal names it
    await settle(pilot)
    assert not any("\x1b" in note for note in [*notes(app), why or ""])
    await pilot.press("6")  # the audit screen lists the refusal's target
    await settle(pilot)
    audit = app.screen.query_one(DataTable)
    cells = [str(audit.get_cell_at((r, 5))) for r in range(audit.row_count)]
    assert escaped in cells, cells
    assert app.is_running


@pytest.mark.parametrize("count", ["²", "9" * 400, "0", "nan"])
async def test_the_create_dialog_refuses_an_absurd_count(make_app: MakeApp, count: str) -> None:
    from textual.widgets import Input, Static

    from vdctui.ui.dialogs.forms import CreateDialog

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        flavor = app.ops.flavors()[0].name
        pool = app.ops.pools()[0].pool.name
        dialog = CreateDialog("new", app.ops.flavors(), [pool], (flavor, pool))
        app.push_screen(dialog)
        await settle(pilot)
        dialog.query_one("#count", Input).value = count
        dialog.ok()
        await settle(pilot)
        assert app.screen is dialog  # still open, saying why
        assert "The count must be" in str(dialog.query_one("#why", Static).render())
        assert app.is_running


async def test_a_damaged_store_while_running_is_a_notification(
    make_app: MakeApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)

        def damaged(*_args: object, **_kwargs: object) -> None:
            raise sqlite3.DatabaseError("database disk image is malformed")

        monkeypatch.setattr(app.ops, "vms", damaged)
        monkeypatch.setattr(app.ops, "count_vms", damaged, raising=False)
        app.refresh_screen()
        await settle(pilot)
        assert any("malformed" in note for note in notes(app)), notes(app)
        assert app.is_running
