"""Tiny lab guests: a 36-byte multiboot image that halts, and its domain XML.

The image is a multiboot header followed by `cli; hlt; jmp $-1`: QEMU boots it
as a `<kernel>` and the guest idles at ~0 % CPU. Optionally, random data is
preloaded into guest memory (QEMU's `loader` device) so that a live migration
moves real bytes and lasts long enough to watch.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import uuid
from pathlib import Path
from xml.sax.saxutils import quoteattr

HALT_IMAGE = bytes.fromhex(
    "02b0ad1b00000100fe4f51e4000010000000100000000000000000002000100 0faf4ebfd".replace(" ", "")
)
SPIN_IMAGE = HALT_IMAGE[:32] + bytes.fromhex("ebfe9090")  # `jmp $`: one vCPU at 100 %
# COM1 polled: each byte read comes back plus one ('HAL' -> 'IBM'), so what a console shows
# is the guest's own serial output, not a terminal's echo (one vCPU busy while it runs)
SERIAL_IMAGE = HALT_IMAGE[:32] + bytes.fromhex("66bafd03eca80174f766baf803ecfec0eeebed")
LOAD_ADDRESS = 0x1000000  # 16 MiB: above the image and the BIOS areas


def write_halt_image(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "halt.mb"
    if not path.exists() or path.read_bytes() != HALT_IMAGE:
        path.write_bytes(HALT_IMAGE)
    return path


def write_spin_image(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "spin.mb"
    if not path.exists() or path.read_bytes() != SPIN_IMAGE:
        path.write_bytes(SPIN_IMAGE)
    return path


def disk_image(directory: Path, name: str, mib: int = 1) -> Path:
    """A small raw disk (sparse) the guest never touches: something for `block.*`."""
    path = directory / f"disk-{name}.img"
    with open(path, "wb") as out:
        out.truncate(mib << 20)
    return path


def qcow2_image(directory: Path, name: str, mib: int = 8) -> Path:
    """A small empty qcow2 disk: internal snapshots (`virsh snapshot-create-as`) need one."""
    path = directory / f"disk-{name}.qcow2"
    path.unlink(missing_ok=True)
    subprocess.run(
        ["qemu-img", "create", "-q", "-f", "qcow2", str(path), f"{mib}M"],
        check=True,
        capture_output=True,
    )
    return path


def write_serial_image(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "serial.mb"
    if not path.exists() or path.read_bytes() != SERIAL_IMAGE:
        path.write_bytes(SERIAL_IMAGE)
    return path


def dirty_image(directory: Path, mib: int) -> Path:
    """`mib` MiB of random bytes (made once per size, kept in the lab's state)."""
    path = directory / f"dirty-{mib}.bin"
    if not path.exists() or path.stat().st_size != mib << 20:
        tmp = path.with_suffix(".tmp")
        with open(tmp, "wb") as out:
            for _ in range(mib):
                out.write(os.urandom(1 << 20))
        tmp.rename(path)
    return path


def vm_uuid(name: str) -> str:
    return str(uuid.UUID(bytes=hashlib.md5(name.encode()).digest(), version=4))


def domain_xml(
    name: str,
    image: Path,
    *,
    accel: str = "kvm",
    memory_mib: int = 64,
    max_memory_mib: int | None = None,
    vcpus: int = 1,
    max_vcpus: int = 4,
    dirty: Path | None = None,
    disk: Path | None = None,
    bridge: str = "br0",
    network: str | None = None,
    ip: str | None = None,
) -> str:
    """A tiny VM: no disk (or `disk`: raw, or qcow2 by its suffix), one virtio NIC on
    `bridge` (or on libvirt's `network`), VNC on 127.0.0.1, a balloon. `ip`: its NIC's
    address stated as the IP parameter of a filterref to STATED_FILTER (the host must
    have that filter: STATED_FILTER_XML)."""
    max_memory_mib = max_memory_mib or memory_mib
    qemu_ns, extra = "", ""
    if dirty is not None:
        qemu_ns = " xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'"
        loader = f"loader,file={dirty},addr={LOAD_ADDRESS:#x},force-raw=on"
        extra = (
            "  <qemu:commandline>\n"
            "    <qemu:arg value='-device'/>\n"
            f"    <qemu:arg value={quoteattr(loader)}/>\n"
            "  </qemu:commandline>\n"
        )
    return f"""<domain type='{accel if accel == "kvm" else "qemu"}'{qemu_ns}>
  <name>{name}</name>
  <uuid>{vm_uuid(name)}</uuid>
  <memory unit='MiB'>{max_memory_mib}</memory>
  <currentMemory unit='MiB'>{memory_mib}</currentMemory>
  <vcpu placement='static' current='{vcpus}'>{max_vcpus}</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>{image}</kernel>
  </os>
  <features><acpi/><apic/></features>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
{_disk(disk)}    <interface type='{"network" if network else "bridge"}'>
      <source {f"network='{network}'" if network else f"bridge='{bridge}'"}/>
      <model type='virtio'/>{_stated(ip)}
    </interface>
    <serial type='pty'><target port='0'/></serial>
    <console type='pty'><target type='serial' port='0'/></console>
    <graphics type='vnc' port='-1' autoport='yes' listen='127.0.0.1'/>
    <video><model type='vga' vram='16384' heads='1'/></video>
    <memballoon model='virtio'/>
  </devices>
{extra}</domain>
"""


STATED_FILTER = "lab-stated-ip"
STATED_FILTER_XML = f"<filter name='{STATED_FILTER}' chain='root'/>"  # filters nothing


def _stated(ip: str | None) -> str:
    if ip is None:
        return ""
    return (
        f"\n      <filterref filter='{STATED_FILTER}'><parameter name='IP' value='{ip}'/>"
        "</filterref>"
    )


def _disk(path: Path | None) -> str:
    if path is None:
        return ""
    kind = "qcow2" if path.suffix == ".qcow2" else "raw"
    return (
        "    <disk type='file' device='disk'>\n"
        f"      <driver name='qemu' type='{kind}'/>\n"
        f"      <source file={quoteattr(str(path))}/>\n"
        "      <target dev='vda' bus='virtio'/>\n"
        "    </disk>\n"
    )
