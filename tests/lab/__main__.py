"""`python -m tests.lab up N [--bmc] [--write-inventory FILE] [--migration p2p|direct]`,
`down`, `status`.

Also: `virsh N ARGS...` (virsh run directly on host N), `ssh N CMD...`,
`vmxml NAME [MEM_MiB] [DIRTY_MiB]` (a tiny guest's domain XML).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from tests.lab.guests import dirty_image, domain_xml, write_halt_image
from tests.lab.hosts import LabError
from tests.lab.inventory import MIGRATION_KINDS, write_inventory
from tests.lab.lab import Lab


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.lab", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="bring up hosts labh1..labhN (root)")
    up.add_argument("count", type=int)
    up.add_argument("--write-inventory", type=Path, metavar="FILE.toml")
    up.add_argument("--migration", choices=MIGRATION_KINDS, default="p2p")
    up.add_argument(
        "--bmc", action="store_true", help="give each host a Redfish BMC that cuts its power"
    )
    sub.add_parser("down", help="stop and remove everything the lab made")
    sub.add_parser("status", help="what runs")
    virsh = sub.add_parser("virsh", help="virsh run directly on host N")
    virsh.add_argument("host", type=int)
    virsh.add_argument("args", nargs=argparse.REMAINDER)
    ssh = sub.add_parser("ssh", help="ssh root@ host N from this namespace")
    ssh.add_argument("host", type=int)
    ssh.add_argument("args", nargs=argparse.REMAINDER)
    vmxml = sub.add_parser("vmxml", help="a tiny guest's domain XML")
    vmxml.add_argument("name")
    vmxml.add_argument("memory_mib", type=int, nargs="?", default=64)
    vmxml.add_argument("dirty_mib", type=int, nargs="?", default=0)
    args = parser.parse_args(argv)
    lab = Lab()
    try:
        if args.command == "up":
            lab.up(args.count, bmcs=args.bmc)
            if args.write_inventory:
                path = write_inventory(lab, args.write_inventory, args.migration, bmc=args.bmc)
                print(f"inventory: {path} (vdctui --inventory {path} host list)")
            print(lab.status())
        elif args.command == "down":
            took = lab.down()
            print(f"lab is down ({took:.1f}s)")
        elif args.command == "status":
            print(lab.status())
        elif args.command == "virsh":
            # in this directory, so that `define web1.xml` finds the file
            virsh = ["virsh", "-q", "-c", "qemu:///system", *args.args]
            return subprocess.run(lab.host_command(args.host, virsh, cwd=os.getcwd())).returncode
        elif args.command == "ssh":
            os.execvp("ssh", lab.ssh_command(args.host, *args.args))
        elif args.command == "vmxml":
            image = write_halt_image(lab.images)
            dirty = dirty_image(lab.images, args.dirty_mib) if args.dirty_mib else None
            memory = max(args.memory_mib, args.dirty_mib + 32)
            print(domain_xml(args.name, image, accel=lab.accel, memory_mib=memory, dirty=dirty))
    except LabError as exc:
        print(f"lab: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
