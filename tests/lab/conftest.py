"""The lab for the lab tests: three real hosts, brought up once per session and down at the end.

Without root or the packages the lab tests skip locally, but never in CI (`$CI`
set): there they fail, saying what is missing. The accelerator the guests use
(KVM, or QEMU's TCG when /dev/kvm is not usable) is printed in the test output.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.lab.guests import (
    dirty_image,
    disk_image,
    domain_xml,
    qcow2_image,
    write_halt_image,
    write_serial_image,
    write_spin_image,
)
from tests.lab.hosts import PACKAGES, LabError, alive, missing_programs
from tests.lab.inventory import write_inventory
from tests.lab.lab import Lab
from vdctui.backend_ssh import ssh_console
from vdctui.drivers.ssh import HostKeyBook, SshDriver, load_inventory
from vdctui.ops import Console

HOSTS = 3


def _unusable() -> str | None:
    if os.geteuid() != 0:
        return "the lab needs root"
    missing = missing_programs()
    if missing:
        return f"the lab needs {', '.join(missing)} (apt-get install {PACKAGES})"
    return None


def _say(config: pytest.Config, line: str) -> None:
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    if reporter is None:
        return
    if capture is None:
        reporter.write_line(line)
        return
    with capture.global_and_fixture_disabled():
        reporter.write_line(line)


@pytest.fixture(scope="session")
def lab(request: pytest.FixtureRequest) -> Iterator[Lab]:
    why = _unusable()
    if why is not None:
        if os.environ.get("CI"):
            pytest.fail(f"lab tests must run in CI: {why}")
        pytest.skip(why)
    lab = Lab()
    try:
        # another session's lab (a helper running the suite on the same machine) is
        # waited for, never taken down
        # each host with a Redfish BMC (sushy-tools) that really cuts its power
        took = lab.up(HOSTS, hold=True, wait_s=240, bmcs=True)  # within pytest-timeout
    except LabError as exc:
        pytest.fail(f"the lab did not come up: {exc}")
    _say(request.config, f"\nlab: {HOSTS} hosts up in {took:.1f}s; guests use {lab.accel.upper()}")
    try:
        yield lab
    finally:
        owner = lab.state / "owner"
        if owner.exists() and owner.read_text() == str(os.getpid()):
            _take_down(lab, request.config)
        # else someone took our lab down (and maybe brought up theirs): leave it


def _take_down(lab: Lab, config: pytest.Config) -> None:
    before = lab.footprint()
    took = lab.down()
    _say(config, f"\nlab: down in {took:.1f}s")
    pids = [int(p) for p in before["processes"]]
    after = lab.footprint()
    after["processes"] = [str(p) for p in pids if alive(p)]
    after["cgroups"] = [c for c in before["cgroups"] if Path(c).exists()]
    left = {what: items for what, items in after.items() if items}
    assert not left, f"the lab's down left {left}"


@pytest.fixture(scope="session")
def lab_inventory(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An inventory of the lab: labh1 and labh3 migrate p2p, labh2 direct."""
    path = tmp_path_factory.mktemp("lab") / "lab.toml"
    return write_inventory(lab, path, ["p2p", "direct", "p2p"])


@pytest.fixture(scope="session")
def lab_bmc_inventory(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The lab's inventory with each host's BMC keys (bmc, bmc_system, user, password, CA)."""
    path = tmp_path_factory.mktemp("lab-bmc") / "lab.toml"
    return write_inventory(lab, path, "p2p", bmc=True)


@pytest.fixture
async def lab_driver(lab_inventory: Path) -> AsyncIterator[SshDriver]:
    inventory = load_inventory(lab_inventory)
    driver = SshDriver(inventory, HostKeyBook(inventory.known_hosts))
    try:
        yield driver
    finally:
        await driver.close()


class Guests:
    """Tiny VMs defined directly on lab hosts with plain virsh, removed after the test."""

    def __init__(self, lab: Lab) -> None:
        self.lab = lab
        self.made: list[str] = []

    def define(
        self,
        name: str,
        host: int,
        *,
        start: bool = True,
        memory_mib: int = 64,
        max_memory_mib: int | None = None,
        dirty_mib: int = 0,
        vcpus: int = 1,
        disk: bool = False,
        qcow2: bool = False,
        spin: bool = False,
        network: str | None = None,
        ip: str | None = None,
        serial: bool = False,
    ) -> str:
        """`disk`: a raw disk; `qcow2`: a qcow2 one (internal snapshots need it); `serial`:
        a guest that answers on its serial console (`guests.SERIAL_IMAGE`)."""
        made = write_serial_image if serial else write_spin_image if spin else write_halt_image
        image = made(self.lab.images)
        dirty = dirty_image(self.lab.images, dirty_mib) if dirty_mib else None
        xml = domain_xml(
            name,
            image,
            accel=self.lab.accel,
            memory_mib=max(memory_mib, dirty_mib + 32),
            max_memory_mib=max_memory_mib,
            vcpus=vcpus,
            dirty=dirty,
            network=network,
            ip=ip,
            disk=(
                qcow2_image(self.lab.images, name)
                if qcow2
                else disk_image(self.lab.images, name)
                if disk
                else None
            ),
        )
        self.made.append(name)
        self.lab.virsh(host, "define", "/dev/stdin", input=xml)
        if start:
            self.lab.virsh(host, "start", name)
        return name

    def where(self, name: str) -> list[tuple[int, str]]:
        """(host, state) for every lab host that has this VM, by plain virsh."""
        found = []
        for host in self.lab.hosts():
            done = self.lab.virsh(host.number, "domstate", name, check=False)
            if done.returncode == 0:
                found.append((host.number, done.stdout.strip()))
        return found

    def remove_all(self) -> None:
        for host in self.lab.hosts():
            for name in self.made:
                self.lab.virsh(host.number, "destroy", name, check=False)
                self.lab.virsh(host.number, "undefine", name, "--snapshots-metadata", check=False)


@pytest.fixture
def guests(lab: Lab) -> Iterator[Guests]:
    made = Guests(lab)
    try:
        yield made
    finally:
        made.remove_all()


def run_cli(
    inventory: Path, db: Path, *args: str, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """`vdctui --db DB --inventory INV ARGS` in a process of its own."""
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root), "VDCTUI_ROLE": "admin"}
    return subprocess.run(
        ["python", "-m", "vdctui", "--db", str(db), "--inventory", str(inventory), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


@pytest.fixture
async def lab_console(lab_inventory: Path, tmp_path: Path) -> AsyncIterator[Console]:
    """The console over the lab, in this process (as the CLI and the TUI build it)."""
    console = ssh_console(tmp_path / "console.db", lab_inventory)
    try:
        await console.sync()
        yield console
    finally:
        await console.close()


def completed_job(lab: Lab, host: int, name: str) -> dict[str, int]:
    """`domjobinfo --completed --rawstats` run directly on a host, as numbers."""
    text = lab.virsh(host, "domjobinfo", "--completed", "--rawstats", name).stdout
    found = {}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if value.strip().lstrip("-").isdigit():
            found[key.strip()] = int(value)
    return found
