"""Which disks a cold --copy-storage move copies, and the refusals, from a domain's XML."""

from __future__ import annotations

import pytest

from vdctui.drivers.base import InvalidOperation
from vdctui.drivers.ssh.disks import DiskFile, file_disks

DOMAIN = """<domain type='kvm'><name>db1</name><devices>
  <disk type='file' device='disk'><driver name='qemu' type='qcow2'/>
    <source file='/var/lib/libvirt/images/db1.qcow2'/><target dev='vda' bus='virtio'/></disk>
  <disk type='file' device='cdrom'><target dev='sda' bus='sata'/><readonly/></disk>
  <disk type='file' device='disk'>
    <source file='/srv/data/db1 logs.img'/><target dev='vdb' bus='virtio'/></disk>
</devices></domain>"""


def test_file_disks_and_empty_drives() -> None:
    assert file_disks("db1", DOMAIN) == [
        DiskFile("vda", "/var/lib/libvirt/images/db1.qcow2"),
        DiskFile("vdb", "/srv/data/db1 logs.img"),
    ]


@pytest.mark.parametrize(
    ("disk", "why"),
    [
        ("<disk type='block' device='disk'><source dev='/dev/sdb'/><target dev='vdc'/></disk>",
         "disk vdc is a block disk, not a file"),
        ("<disk type='network' device='disk'><source protocol='rbd' name='p/i'/>"
         "<target dev='vdc'/></disk>", "disk vdc is a network disk"),
        ("<disk type='file' device='disk'><source file='/a.img'/><target dev='vdc'/>"
         "<shareable/></disk>", "disk vdc is shareable"),
        ("<disk type='file' device='disk'><source file='/a.qcow2'/><target dev='vdc'/>"
         "<backingStore type='file'><source file='/base.qcow2'/></backingStore></disk>",
         "disk vdc has a backing file"),
        ("<disk type='file' device='disk'><source file='img/a.img'/><target dev='vdc'/></disk>",
         "not a plain absolute path"),
        ("<disk type='file' device='disk'><source file='/x/../etc/shadow'/>"
         "<target dev='vdc'/></disk>", "not a plain absolute path"),
    ],
)  # fmt: skip
def test_disks_it_cannot_copy_are_refused(disk: str, why: str) -> None:
    xml = DOMAIN.replace("</devices>", disk + "</devices>")
    with pytest.raises(InvalidOperation, match=why):
        file_disks("db1", xml)


def test_unreadable_definition_is_refused() -> None:
    with pytest.raises(InvalidOperation, match="cannot be read"):
        file_disks("db1", "<domain")
