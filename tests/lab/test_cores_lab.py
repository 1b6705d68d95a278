"""Dedicated cores on real libvirt: a dedicated VM's pins, as plain `virsh vcpupin` shows
them on its host, before and after a live migration (pins chosen on the target), and its
memory bound to its NUMA node (`virsh numatune`; the lab's hosts have one node each)."""

from __future__ import annotations

from tests.lab.conftest import Guests
from tests.lab.lab import Lab
from vdctui.drivers.ssh.cpus import parse_emulatorpin, parse_numatune, parse_vcpupin
from vdctui.model import CpuPins, CpuPolicy
from vdctui.ops import Console
from vdctui.ops.cores import set_policy


def pins_seen(lab: Lab, host: int, name: str) -> tuple[tuple[int, ...], ...]:
    return parse_vcpupin(lab.virsh(host, "vcpupin", name, "--live").stdout)


def numatune_seen(lab: Lab, host: int, name: str, which: str = "--live") -> tuple[str, str]:
    """(mode, nodeset) as plain `virsh numatune` prints them on the host."""
    text = lab.virsh(host, "numatune", name, which).stdout
    fields = {
        key.strip(): value.strip()
        for key, _, value in (line.partition(":") for line in text.splitlines())
    }
    parse_numatune(text)  # the driver reads the same answer
    return fields["numa_mode"], fields["numa_nodeset"]


async def test_a_dedicated_vms_pins_before_and_after_a_migration(
    lab: Lab, lab_console: Console, guests: Guests
) -> None:
    mover = guests.define("pin-mover", 1)
    holder = guests.define("pin-holder", 3)
    await lab_console.sync()
    topology = lab_console.store.cpu_topology("labh1")
    assert topology is not None and topology.source == "virsh capabilities"
    assert len(topology.cpus) >= 2

    pins = await set_policy(lab_console, mover, CpuPolicy.DEDICATED)
    assert pins_seen(lab, 1, mover)[0] == (pins.vcpu_pins[0],)
    config = parse_vcpupin(lab.virsh(1, "vcpupin", mover, "--config").stdout)
    assert config[0] == (pins.vcpu_pins[0],)  # in its definition too
    emulator = parse_emulatorpin(lab.virsh(1, "emulatorpin", mover, "--live").stdout)
    assert emulator == pins.emulator_pins
    assert pins.node == 0  # the lab's hosts have one NUMA node: memory bound to it
    assert numatune_seen(lab, 1, mover) == ("strict", "0")
    assert numatune_seen(lab, 1, mover, "--config") == ("strict", "0")

    # on labh3 the CPU the mover has on labh1 is taken: the target needs pins of its own
    taken = await set_policy(lab_console, holder, CpuPolicy.DEDICATED)
    assert taken.vcpu_pins == pins.vcpu_pins
    assert pins_seen(lab, 3, holder)[0] == taken.vcpu_pins

    run = await lab_console.migrate_vm(mover, "labh3")
    result = await run.wait()
    assert result.outcome.value == "succeeded", result.reason
    assert run.follower is not None
    await run.follower
    moved = lab_console.store.vm_cpus(mover)
    assert moved is not None and moved.host == "labh3" and moved.dedicated
    assert moved.vcpu_pins != taken.vcpu_pins
    assert pins_seen(lab, 3, mover)[0] == (moved.vcpu_pins[0],)
    assert numatune_seen(lab, 3, mover) == ("strict", "0")
    assert pins_seen(lab, 3, holder)[0] == taken.vcpu_pins  # the holder kept its CPU


async def test_the_migration_itself_carries_the_targets_pins(
    lab: Lab, lab_console: Console, guests: Guests
) -> None:
    """The driver's migration alone (no re-pinning after it): the VM runs on labh2 and
    labh3 with the pins its `--xml`/`--persistent-xml` carried, never its source's."""
    name = guests.define("pin-carried", 1, vcpus=2)
    lab.virsh(1, "vcpupin", name, "0", "0", "--live", "--config")
    lab.virsh(1, "vcpupin", name, "1", "0", "--live", "--config")
    await lab_console.sync()
    assert pins_seen(lab, 1, name)[:2] == ((0,), (0,))
    for host, index, cpu in (("labh2", 2, 1), ("labh3", 3, 0), ("labh1", 1, 1)):
        carried = CpuPins(((cpu,), (1 - cpu,)), (1 - cpu,), (0,))
        handle = await lab_console.driver.migrate(name, host, pins=carried)
        result = await handle.wait()
        assert result.outcome.value == "succeeded", result.reason
        assert pins_seen(lab, index, name)[:2] == ((cpu,), (1 - cpu,))
        config = parse_vcpupin(lab.virsh(index, "vcpupin", name, "--config").stdout)
        assert config[:2] == ((cpu,), (1 - cpu,))  # the definition it keeps there too
        emulator = parse_emulatorpin(lab.virsh(index, "emulatorpin", name, "--live").stdout)
        assert emulator == (1 - cpu,)
        assert numatune_seen(lab, index, name, "--config") == ("strict", "0")
