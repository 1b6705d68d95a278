"""A task's migrations are one notification, not one toast each: a balance's (or an
evacuation's) moves are summed up once the task has ended (`Balance: 4 migrations
succeeded`, with the ones that did not named); a migration of its own (`:migrate`) is
still said on its own."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import host_with_room_for, running_vm_on_shared_storage
from tests.ui.conftest import SIZE, command, fleet_of, settle
from tests.ui.test_balance_wake_ui import apply_balance, small_fleet_app
from tests.ui.test_host_toasts import listen, until_said
from vdctui.ui.migration_toasts import migration_summary


def migrations_said(said: list[str]) -> list[str]:
    return [note for note in said if "migration" in note]


def test_the_summary_counts_each_outcome_and_names_what_did_not_succeed() -> None:
    assert migration_summary("Balance", {"succeeded": ["a", "b", "c"]}) == (
        "Balance: 3 migrations succeeded."
    )
    assert migration_summary("Balance", {"succeeded": ["a"]}) == "Balance: 1 migration succeeded."
    said = migration_summary(
        "Evacuation of h1",
        {"succeeded": ["a", "b"], "failed": ["c"], "cancelled": ["d", "e"]},
    )
    assert said == (
        "Evacuation of h1: 5 migrations: 2 succeeded, 1 failed (c), 2 cancelled (d, e)."
    )
    many = migration_summary("Balance", {"failed": [f"vm{i}" for i in range(1, 9)]})
    assert many == "Balance: 8 migrations failed (vm1, vm2, vm3, vm4, vm5, …)."


async def test_a_balances_migrations_are_one_notification(tmp_path: Path) -> None:
    fleet, app = small_fleet_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        heard = listen(app)
        await apply_balance(pilot)
        moved = [m for m in app.ops.migrations() if m.outcome is not None]
        assert len(moved) > 1
        said = await until_said(pilot, heard, "Balance: ")
        summary = f"Balance: {len(moved)} migrations succeeded."
        assert migrations_said(said) == [summary], said
        for m in moved:  # not said again in the apply's outcome
            assert not [n for n in said if f"{m.vm} {m.source} -> " in n], (m.vm, said)


async def test_an_evacuations_migrations_are_one_notification(make_app) -> None:  # type: ignore[no-untyped-def]
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        fleet = fleet_of(app)
        host = max(sorted(fleet.hosts), key=lambda h: len(fleet.vms_on(h)))
        heard = listen(app)
        await command(pilot, f"maintenance {host}")
        await pilot.press("y")
        said = await until_said(pilot, heard, f"Evacuation of {host}: ")
        moved = [m for m in app.ops.migrations() if m.source == host]
        assert len(moved) > 1
        summary = f"Evacuation of {host}: {len(moved)} migrations succeeded."
        assert migrations_said(said) == [summary], said


async def test_a_migration_of_its_own_is_said_on_its_own(make_app) -> None:  # type: ignore[no-untyped-def]
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        fleet = fleet_of(app)
        vm = running_vm_on_shared_storage(fleet)
        target = host_with_room_for(fleet, vm)
        heard = listen(app)
        run = await app.ops.migrate_vm(vm, target)
        await run.wait()
        said = await until_said(pilot, heard, f"migration of {vm}")
        assert any(f"migration of {vm} " in n and n.endswith("succeeded") for n in said), said
