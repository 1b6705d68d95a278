"""A stopped VM moved with its disk (`--cold --copy-storage`) between lab hosts whose
/var/lib/libvirt is their own: the file copied, checked, then the VM defined on the
target and only then undefined on the source; the refusals before anything changes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.lab.conftest import Guests, run_cli
from tests.lab.guests import domain_xml, write_halt_image
from tests.lab.lab import Lab
from vdctui.model import MigrationOutcome, MigrationProgress
from vdctui.ops import Console
from vdctui.ops.migration import MigrationRun

IMAGES = "/var/lib/libvirt/images"  # each lab host's own (a private /var/lib/libvirt)
DISK_MIB = 8


def sha256(lab: Lab, host: int, path: str) -> str | None:
    done = lab.run(host, "sha256sum", "--", path, check=False)
    return done.stdout.split()[0] if done.returncode == 0 else None


@pytest.fixture
def disk_vm(lab: Lab, guests: Guests) -> Iterator[tuple[str, str]]:
    """A shut-off VM on labh1 whose disk is 8 MiB of random bytes in labh1's own images."""
    name = "cold-copy"
    path = f"{IMAGES}/{name}.img"
    lab.run(1, "mkdir", "-p", IMAGES)
    lab.run(1, "dd", "if=/dev/urandom", f"of={path}", "bs=1M", f"count={DISK_MIB}", "status=none")
    xml = domain_xml(name, write_halt_image(lab.images), accel=lab.accel, disk=Path(path))
    guests.made.append(name)
    lab.virsh(1, "define", "/dev/stdin", input=xml)
    try:
        yield name, path
    finally:
        for host in (1, 2, 3):
            lab.run(host, "rm", "-f", "--", path, f"{path}.vdctui-part", check=False)


async def test_cold_move_copies_the_disk_first(
    lab: Lab, lab_console: Console, guests: Guests, disk_vm: tuple[str, str]
) -> None:
    name, path = disk_vm
    assert sha256(lab, 3, path) is None  # labh3 does not see labh1's file
    await lab_console.sync()
    seen: list[MigrationProgress] = []

    def progress(_run: MigrationRun, sample: MigrationProgress) -> None:
        seen.append(sample)

    run = await lab_console.migrate_vm(
        name, "labh3", cold=True, copy_storage=True, on_progress=progress
    )
    result = await run.wait()
    assert result.outcome is MigrationOutcome.SUCCEEDED, result.reason
    assert guests.where(name) == [(3, "shut off")]
    assert sha256(lab, 3, path) == sha256(lab, 1, path) is not None  # the source keeps its copy
    copying = [s for s in seen if s.phase == "copy-storage"]
    assert copying and copying[-1].data_processed == DISK_MIB << 20
    lab.virsh(3, "start", name)  # QEMU on labh3 opens the copied file
    assert guests.where(name) == [(3, "running")]


def test_a_file_the_target_has_is_never_overwritten(
    lab: Lab, lab_inventory: Path, guests: Guests, disk_vm: tuple[str, str], tmp_path: Path
) -> None:
    name, path = disk_vm
    lab.run(2, "mkdir", "-p", IMAGES)
    lab.run(2, "sh", "-c", f"echo theirs > {path}")
    done = run_cli(
        lab_inventory, tmp_path / "c.db",
        "vm", "migrate", name, "--to", "labh2", "--cold", "--copy-storage",
    )  # fmt: skip
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "never overwrites" in done.stderr and path in done.stderr
    assert guests.where(name) == [(1, "shut off")]  # nothing changed
    assert lab.run(2, "cat", path).stdout == "theirs\n"


def test_a_disk_that_is_not_a_file_is_refused(
    lab: Lab, lab_inventory: Path, guests: Guests, tmp_path: Path
) -> None:
    name = "cold-block"
    xml = domain_xml(name, write_halt_image(lab.images), accel=lab.accel).replace(
        "<devices>",
        "<devices>\n    <disk type='block' device='disk'><source dev='/dev/null'/>"
        "<target dev='vdb' bus='virtio'/></disk>",
    )
    guests.made.append(name)
    lab.virsh(1, "define", "/dev/stdin", input=xml)
    done = run_cli(
        lab_inventory, tmp_path / "c.db",
        "vm", "migrate", name, "--to", "labh3", "--cold", "--copy-storage",
    )  # fmt: skip
    assert done.returncode == 1, done.stdout
    assert "disk vdb is a block disk, not a file" in done.stderr
    assert guests.where(name) == [(1, "shut off")]
