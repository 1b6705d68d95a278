"""The fault storm, short (bench/fault_storm.py runs it long): random faults interleaved
with lifecycle changes, migrations, evacuations and HA restarts through the Console, the
console's guarantees checked after every step (see bench/_storm.py). Seeded choices of
faults and changes."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

_path = Path(__file__).resolve().parents[2] / "bench" / "_storm.py"
_spec = importlib.util.spec_from_file_location("_storm", _path)
assert _spec and _spec.loader
storm = importlib.util.module_from_spec(_spec)
sys.modules["_storm"] = storm
_spec.loader.exec_module(storm)


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_every_guarantee_holds_through_a_storm_of_faults(seed: int) -> None:
    tally = await storm.storm(seed, 80)
    assert tally.faults == 80
    assert tally.checks > 10_000  # every step checked every VM, host and task
    assert tally.changes > 80 and tally.refused < tally.changes  # real work got done
    for kind in ("crash", "migrate", "evacuate", "ha-restart"):
        assert tally.kinds.get(kind, 0) > 0, kind


async def test_a_broken_guarantee_is_caught() -> None:
    """The checks can fail: a VM dropped from the store behind the console's back."""
    s = storm.Storm(4)
    await s.console.sync()
    await s.check()
    s.console.store.remove_vms([sorted(s.fleet.vms)[0]])
    with pytest.raises(storm.Broken, match="dropped from the store"):
        await s.check()
    await s.console.close()
