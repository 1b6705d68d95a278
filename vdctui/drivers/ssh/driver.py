"""The SSH driver: `HostDriver` over asyncssh and `virsh` on each host of an inventory.

Reads: one exec per host per refresh (a virsh script: nodeinfo, list, domstats,
pool-list; plus one dominfo script for hosts whose domstats lack figures, as
libvirt's test driver does). `list_hosts` always polls; `list_vms()` right
after it (a console sync) reuses that poll; `topology` reuses the last one.
Changes: one exec each, exit code checked. Events: the changes this driver
makes, and state changes seen between polls.
"""

from __future__ import annotations

import asyncio
import time
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Callable, Iterable
from pathlib import Path

from vdctui.drivers.adc.base import AdcDriver
from vdctui.drivers.base import (
    HostDriver,
    HostUnreachable,
    InvalidOperation,
    MigrationHandle,
    NoSuchHost,
    NoSuchVm,
)
from vdctui.drivers.ssh import commands
from vdctui.drivers.ssh.cold import ColdMove
from vdctui.drivers.ssh.collector import collection_paused
from vdctui.drivers.ssh.config import SshConfig
from vdctui.drivers.ssh.console import SshSerial
from vdctui.drivers.ssh.counters import SshCounters
from vdctui.drivers.ssh.cpus import SshPinning
from vdctui.drivers.ssh.definitions import SavedDefinitions
from vdctui.drivers.ssh.disks import disks_to_copy
from vdctui.drivers.ssh.downtime import set_for_migration
from vdctui.drivers.ssh.duplicates import SshDuplicates
from vdctui.drivers.ssh.events import EventChannel, HostEvent
from vdctui.drivers.ssh.hostkeys import HostKeyBook
from vdctui.drivers.ssh.inventory import Inventory, InventoryHost
from vdctui.drivers.ssh.migration import SshMigration
from vdctui.drivers.ssh.nwfilter import SshFirewall
from vdctui.drivers.ssh.options import option_flags
from vdctui.drivers.ssh.parsers import VirshOutputError
from vdctui.drivers.ssh.pinned_move import carrying_pins
from vdctui.drivers.ssh.pool import Completed, ConnectionPool, PoolLimits
from vdctui.drivers.ssh.power import BmcPower
from vdctui.drivers.ssh.reading import HostReader
from vdctui.drivers.ssh.snapshot import HostSnapshot, unreachable_host, with_bmc_reading
from vdctui.drivers.ssh.snapshots import SshSnapshots
from vdctui.model import (
    CpuPins,
    Datastore,
    DatastoreKind,
    FleetEvent,
    Host,
    MigrationOptions,
    Rack,
    Room,
    Site,
    Topology,
    Vm,
    VmSpec,
    VmState,
)

METADATA_NS = "https://github.com/vdctui/emulator"
SAFETY_POLL_S = 15.0  # polls while every host's event channel is open
IMAGES = "/var/lib/libvirt/images"


class SshDriver(
    SshCounters,
    SshSnapshots,
    SshConfig,
    SshDuplicates,
    SshPinning,
    SshFirewall,
    SshSerial,
    HostDriver,
):
    backend = "ssh"

    def __init__(
        self,
        inventory: Inventory,
        book: HostKeyBook,
        *,
        limits: PoolLimits | None = None,
        on_refused: Callable[[HostUnreachable], None] | None = None,
        reuse_s: float = 1.0,
        progress_interval_s: float = 0.5,
        event_poll_s: float = 2.0,
        definitions: Path | None = None,
    ) -> None:
        self.inventory = inventory
        self.pool = ConnectionPool(inventory, book, limits=limits, on_refused=on_refused)
        self.reuse_s = reuse_s
        self.progress_interval_s = progress_interval_s
        self.event_poll_s = event_poll_s
        self._hosts = {h.name: h for h in inventory.hosts}
        self._snapshots: dict[str, HostSnapshot] = {}
        self.reader = HostReader(self.pool)
        self._where: dict[str, str] = {}  # VM name -> host last seen on
        self._changes = 0  # bumps on every change this driver makes
        self._polled_at_change = -1
        self._polled_all_at = -1e9  # when the last poll of every host ended (monotonic)
        self._listeners: list[asyncio.Queue[FleetEvent]] = []
        self._migrations: set[SshMigration | ColdMove] = set()
        self._channels: dict[str, EventChannel] = {}
        self.safety_poll_s = SAFETY_POLL_S
        self.power = BmcPower()  # hosts with a `bmc` in the inventory: power, watts, fencing
        self.definitions = SavedDefinitions(definitions)  # of VMs on hosts with a BMC

    def adc(self) -> AdcDriver | None:
        """The inventory's first [[adc]] (HAProxy), over this pool; None without one."""
        if not self.inventory.adcs:
            return None
        from vdctui.drivers.adc.haproxy import HaproxyAdc

        entry = self.inventory.adcs[0]

        async def run(command: str) -> tuple[int, str, str]:
            done = await self.pool.run(entry.host, command, read="set server" not in command)
            return done.status, done.stdout, done.stderr

        return HaproxyAdc(entry.host.name, entry.socket, run)

    # --- polling -----------------------------------------------------------------------

    async def _poll(self, inv: InventoryHost) -> HostSnapshot:
        last = self._snapshots.get(inv.name)
        polled, reading = await asyncio.gather(self._poll_ssh(inv, last), self.power.reading(inv))
        if inv.bmc is not None and polled.answered:  # it may be fenced: keep what HA needs
            await self._save_definitions(inv, polled)
        snapshot = with_bmc_reading(polled, reading)
        self._record(inv.name, last, snapshot)
        return snapshot

    async def _save_definitions(self, inv: InventoryHost, polled: HostSnapshot) -> None:
        async def save(name: str) -> None:
            try:
                out = await self.pool.run(inv, commands.dumpxml(inv.uri, name, migratable=True))
            except HostUnreachable:
                return
            if out.status == 0:
                self.definitions.keep(name, out.stdout)

        names = [n for n, vm in polled.vms.items() if not incoming(vm)]
        await asyncio.gather(*(save(n) for n in names if not self.definitions.has(n)))

    async def _poll_ssh(self, inv: InventoryHost, last: HostSnapshot | None) -> HostSnapshot:
        try:
            return await self._poll_answering(inv)
        except (HostUnreachable, VirshOutputError) as exc:
            reason = str(exc)
            if isinstance(exc, VirshOutputError):
                reason = f"Host {inv.name} answered with output the console cannot read: {exc}."
            return HostSnapshot(
                unreachable_host(inv, reason, last.host if last else None),
                taken_at=time.monotonic(),
            )

    async def _poll_answering(self, inv: InventoryHost) -> HostSnapshot:
        return await self.reader.read(inv)

    def _record(self, name: str, last: HostSnapshot | None, snapshot: HostSnapshot) -> None:
        self._snapshots[name] = snapshot
        for vm_name, vm in snapshot.vms.items():
            if not incoming(vm) or vm_name not in self._where:
                self._where[vm_name] = name
        if last is None:
            return
        events: list[FleetEvent] = []
        now = time.time()
        if last.host.state is not snapshot.host.state:
            why = f" ({snapshot.host.reason})" if snapshot.host.reason else ""
            events.append(
                FleetEvent(
                    now,
                    "host.state",
                    host=name,
                    message=f"Host {name} is now {snapshot.host.state}{why}.",
                )
            )
        if last.answered and snapshot.answered:
            for vm_name, seen in snapshot.vms.items():
                old = last.vms.get(vm_name)
                if old is not None and old.state is not seen.state:
                    events.append(
                        FleetEvent(
                            now,
                            "vm.state",
                            host=name,
                            vm=vm_name,
                            message=f"VM {vm_name} is now {seen.state}.",
                        )
                    )
        self._publish(events)

    async def _poll_all(self) -> list[HostSnapshot]:
        changes = self._changes
        with collection_paused():  # a fan-out's garbage is freed as it goes (`collector`)
            snapshots = await asyncio.gather(*(self._poll(h) for h in self.inventory.hosts))
        self._polled_at_change = changes
        self._polled_all_at = time.monotonic()
        return list(snapshots)

    async def _fresh_all(self) -> list[HostSnapshot]:
        """Every host's snapshot, reusing the last poll of them all if it ended less than
        `reuse_s` ago and nothing changed since it began (however long it took: a big
        fleet's poll takes longer than `reuse_s`, and a list_vms() right after it must
        not poll every host again)."""
        snaps = [self._snapshots.get(h.name) for h in self.inventory.hosts]
        if (
            self._polled_at_change == self._changes
            and time.monotonic() - self._polled_all_at < self.reuse_s
            and all(s is not None for s in snaps)
        ):
            return [s for s in snaps if s is not None]
        return await self._poll_all()

    # --- reads ---------------------------------------------------------------------------

    async def topology(self) -> Topology:
        """Inventory places and the storage pools hosts reported (polls only if none did)."""
        if len(self._snapshots) < len(self.inventory.hosts):
            await self._poll_all()
        snaps = [self._snapshots[h.name] for h in self.inventory.hosts]
        sites = sorted({h.site for h in self.inventory.hosts})
        rooms = sorted({(h.room, h.site) for h in self.inventory.hosts})
        racks = sorted({(h.rack, h.room, h.site) for h in self.inventory.hosts})
        reached: dict[str, list[str]] = {}
        for snap in snaps:
            for pool in snap.pools:
                reached.setdefault(pool, []).append(snap.host.name)
        datastores = []
        for pool, hosts in sorted(reached.items()):
            if len(hosts) > 1:
                room = self._hosts[hosts[0]].room
                datastores.append(Datastore(pool, DatastoreKind.SHARED, 0.0, room=room))
            else:
                datastores.append(Datastore(pool, DatastoreKind.LOCAL, 0.0, host=hosts[0]))
        return Topology(
            sites=tuple(Site(s) for s in sites),
            rooms=tuple(Room(r, s) for r, s in rooms),
            racks=tuple(Rack(r, room, s, 15.0, 100.0) for r, room, s in racks),
            datastores=tuple(datastores),
        )

    async def list_hosts(self) -> list[Host]:
        """Polls every host (one exec each); a list_vms() right after reuses this poll."""
        return [s.host for s in await self._poll_all()]

    async def list_vms(self, host: str | None = None) -> list[Vm]:
        if host is not None:
            inv = self._inv(host)
            snap = await self._poll(inv)
            if not snap.answered:
                raise HostUnreachable(snap.host.reason)
            return list(snap.vms.values())
        return one_copy_each(vm for s in await self._fresh_all() for vm in s.vms.values())

    def _inv(self, host: str) -> InventoryHost:
        inv = self._hosts.get(host)
        if inv is None:
            raise NoSuchHost(f"There is no host named {host!r} in the inventory.")
        return inv

    async def _locate(self, name: str) -> tuple[InventoryHost, Vm]:
        """The host a VM is on now: where it was last seen, else a poll of every host."""
        where = self._where.get(name)
        if where is not None:
            snap = await self._poll(self._hosts[where])
            if not snap.answered:
                raise HostUnreachable(snap.host.reason)
            if name in snap.vms:
                return self._hosts[where], snap.vms[name]
        snaps = await self._poll_all()
        for snap in snaps:
            if name in snap.vms:
                return self._hosts[snap.host.name], snap.vms[name]
        silent = [s.host.name for s in snaps if not s.answered]
        if silent:
            verb = "does" if len(silent) == 1 else "do"
            raise HostUnreachable(
                f"VM {name} is not on any host that answers; {', '.join(silent)} {verb} not answer."
            )
        raise NoSuchVm(f"There is no VM named {name!r}.")

    async def get_vm(self, name: str) -> Vm:
        return (await self._locate(name))[1]

    # --- changes -----------------------------------------------------------------------

    def _changed(self) -> None:
        self._changes += 1

    async def _run_change(
        self,
        inv: InventoryHost,
        command: str,
        what: str,
        vm: str | None = None,
        input: str | None = None,
    ) -> Completed:
        self._changed()
        out = await self.pool.run(inv, command, read=False, input=input)
        self._changed()
        if out.status != 0:
            error = out.error
            if "failed to get domain" in error:
                raise NoSuchVm(f"There is no VM named {vm!r} on host {inv.name}.")
            raise InvalidOperation(f"{what} on host {inv.name} was refused: {error}")
        return out

    async def _lifecycle(self, action: str, name: str) -> None:
        inv, _ = await self._locate(name)
        await self._run_change(
            inv,
            commands.lifecycle(inv.uri, action, name),
            f"{action.capitalize()} of VM {name}",
            vm=name,
        )
        self._publish(
            [
                FleetEvent(
                    time.time(),
                    f"vm.{action}",
                    host=inv.name,
                    vm=name,
                    message=f"VM {name}: {action} done on {inv.name}.",
                )
            ]
        )
        if action == "undefine":
            self._where.pop(name, None)

    async def start(self, name: str) -> None:
        await self._lifecycle("start", name)

    async def shutdown(self, name: str) -> None:
        await self._lifecycle("shutdown", name)

    async def destroy(self, name: str) -> None:
        await self._lifecycle("destroy", name)

    async def reboot(self, name: str) -> None:
        await self._lifecycle("reboot", name)

    async def suspend(self, name: str) -> None:
        await self._lifecycle("suspend", name)

    async def resume(self, name: str) -> None:
        await self._lifecycle("resume", name)

    async def define_again(self, spec: VmSpec, host: str) -> Vm:
        return await self.define(spec, host, xml=self.definitions.for_restart(spec))

    async def undefine(self, name: str) -> None:
        await self._lifecycle("undefine", name)

    async def set_vcpus(self, name: str, vcpus: int) -> None:
        inv, vm = await self._locate(name)
        live = vm.state in (VmState.RUNNING, VmState.PAUSED)
        await self._run_change(
            inv,
            commands.set_vcpus(inv.uri, name, vcpus, live=live),
            f"Setting VM {name} to {vcpus} vCPUs",
            vm=name,
        )

    async def set_memory(self, name: str, memory_mib: int) -> None:
        inv, vm = await self._locate(name)
        live = vm.state in (VmState.RUNNING, VmState.PAUSED)
        await self._run_change(
            inv,
            commands.set_memory(inv.uri, name, memory_mib, live=live),
            f"Setting VM {name} to {memory_mib} MiB",
            vm=name,
        )

    async def define(self, spec: VmSpec, host: str, *, xml: str | None = None) -> Vm:
        inv = self._inv(host)
        await self._run_change(
            inv,
            commands.define_from_stdin(inv.uri),
            f"Defining VM {spec.name}",
            vm=spec.name,
            input=xml or domain_xml(spec),
        )
        self._where[spec.name] = host
        self._publish(
            [
                FleetEvent(
                    time.time(),
                    "vm.defined",
                    host=host,
                    vm=spec.name,
                    message=f"VM {spec.name} defined on {host}.",
                )
            ]
        )
        return Vm(
            name=spec.name,
            state=VmState.SHUTOFF,
            host=host,
            vcpus=spec.vcpus,
            memory_mib=spec.memory_mib,
            max_vcpus=spec.max_vcpus,
            max_memory_mib=spec.max_memory_mib,
            disk_gib=spec.disk_gib,
            datastore=spec.datastore,
            network=spec.network,
            pool=spec.pool,
        )

    async def check_migration_options(self, source: str, options: MigrationOptions) -> None:
        inv = self._hosts.get(source)  # a host not in the inventory: migrate() says so
        option_flags(options, p2p=inv is None or inv.migration == "p2p")

    async def migrate(
        self,
        name: str,
        target: str,
        *,
        live: bool = True,
        copy_storage: bool = False,
        auto_converge: bool = False,
        options: MigrationOptions | None = None,
        pins: CpuPins | None = None,
    ) -> MigrationHandle:
        if options is None:
            options = MigrationOptions("full" if copy_storage else "", auto_converge=auto_converge)
        copy_storage = bool(options.copy_storage)
        target_inv = self._inv(target)
        # where the VM is, and whether the target answers: both at once
        located, target_snap = await asyncio.gather(self._locate(name), self._poll(target_inv))
        source, vm = located
        if source.name == target:
            raise InvalidOperation(f"VM {name} already runs on {target}.")
        if live and vm.state not in (VmState.RUNNING, VmState.PAUSED):
            raise InvalidOperation(
                f"VM {name} must be running or paused to migrate live (it is {vm.state})."
            )
        if not live and vm.state is not VmState.SHUTOFF:
            raise InvalidOperation(
                f"VM {name} must be shut off for a cold migration (it is {vm.state})."
            )
        if not target_snap.answered:
            raise HostUnreachable(target_snap.host.reason)
        if name in target_snap.vms:
            raise InvalidOperation(f"Host {target} already has a VM named {name}.")
        handle: SshMigration | ColdMove
        if not live:
            disks = await disks_to_copy(self.pool, name, source, target_inv) if copy_storage else []
            handle = ColdMove(self, name, source, target_inv, disks, pins)
            self._changed()
            handle.begin()
            self._migrations.add(handle)
            return handle
        command = commands.migrate(
            source.uri,
            name,
            commands.target_uri(target_inv.uri, str(target_inv.address)),
            live=live,
            p2p=source.migration == "p2p",
            extra=option_flags(options, p2p=source.migration == "p2p"),
        )
        if pins is not None:  # the target's pins in the definitions it arrives with
            command = await carrying_pins(self.pool, source, name, command, pins)
        downtime = None
        if options.max_downtime_ms is not None:  # no migrate flag: set on the source first
            self._changed()
            downtime = await set_for_migration(self.pool, source, name, options.max_downtime_ms)
        handle = SshMigration(
            self, name, source, target_inv, live=live, command=command, downtime=downtime
        )
        self._changed()
        await handle.begin()
        self._migrations.add(handle)
        self._publish(
            [
                FleetEvent(
                    time.time(),
                    "migration.start",
                    host=source.name,
                    vm=name,
                    message=f"Migration of {name} from {source.name} to {target} started.",
                )
            ]
        )
        return handle

    def migration_ended(self, handle: SshMigration | ColdMove) -> None:
        self._changed()
        self._migrations.discard(handle)
        self._where.pop(handle.vm, None)

    # --- events --------------------------------------------------------------------------

    def _publish(self, events: list[FleetEvent]) -> None:
        for queue in self._listeners:
            for event in events:
                queue.put_nowait(event)

    def events(self) -> AsyncIterator[FleetEvent]:
        """Events from now on: this driver's changes at once; others as each host's
        libvirtd tells them (`virsh event --loop`), or as polls notice them: every
        `event_poll_s` while a host's event channel is down, else every `safety_poll_s`."""
        queue: asyncio.Queue[FleetEvent] = asyncio.Queue()
        self._listeners.append(queue)
        self.open_event_channels()
        return self._events(queue)

    def open_event_channels(self) -> None:
        for inv in self.inventory.hosts:
            channel = self._channels.get(inv.name)
            if channel is None:
                channel = self._channels[inv.name] = EventChannel(
                    self.pool, inv, self._host_event, self._channel_change
                )
            channel.start()

    def _host_event(self, event: HostEvent) -> None:
        if event.kind != "lifecycle":
            return
        self._changed()  # the next read polls again
        self._publish(
            [
                FleetEvent(
                    time.time(),
                    "vm.lifecycle",
                    host=event.host,
                    vm=event.domain,
                    message=f"VM {event.domain} on {event.host}: {event.detail}.",
                )
            ]
        )

    def _channel_change(self, host: str, message: str, open_now: bool) -> None:
        kind = "events.open" if open_now else "events.dropped"
        self._publish([FleetEvent(time.time(), kind, host=host, message=message)])

    async def _events(self, queue: asyncio.Queue[FleetEvent]) -> AsyncIterator[FleetEvent]:
        try:
            while True:
                channels = list(self._channels.values())
                quiet = (
                    self.safety_poll_s
                    if channels and all(c.open for c in channels)
                    else (self.event_poll_s)
                )
                try:
                    async with asyncio.timeout(quiet):
                        event = await queue.get()
                except TimeoutError:
                    await self._poll_all()
                    continue
                yield event
        finally:
            self._listeners.remove(queue)
            if not self._listeners:
                await self._close_channels()

    async def _close_channels(self) -> None:
        for channel in self._channels.values():
            await channel.stop()

    # --- host power, through the host's BMC ---------------------------------------------

    async def power_on_host(self, name: str) -> None:
        await self.power.reset(self._inv(name), "on")
        self._changed()

    async def power_off_host(self, name: str) -> None:
        await self.power.reset(self._inv(name), "off")
        self._changed()

    async def force_off_host(self, name: str) -> None:
        await self.power.reset(self._inv(name), "force-off")
        self._changed()

    async def power_cycle_host(self, name: str) -> None:
        await self.power.reset(self._inv(name), "cycle")
        self._changed()

    async def fence_host(self, name: str) -> str:
        inv = self._inv(name)
        if inv.bmc is None:
            raise InvalidOperation(
                f"Host {name} has no BMC in the inventory, so the console cannot fence it; "
                "confirm it is down instead once you know it is."
            )
        try:
            return await self.power.fence(inv)
        finally:
            self._changed()

    async def close(self) -> None:
        await self._close_channels()
        for handle in list(self._migrations):
            await handle.cancel_exec()
        await self.reader.close()  # the kept-open virsh of each host
        await self.power.close()
        await self.pool.close()


INCOMING_REASONS = ("starting up", "migrating", "post-copy")


def incoming(vm: Vm) -> bool:
    """The target's copy of a VM that is migrating in (it runs on its source until then)."""
    return vm.state is VmState.PAUSED and vm.state_reason in INCOMING_REASONS


def one_copy_each(vms: Iterable[Vm]) -> list[Vm]:
    """Every VM once: while one migrates, the copy on its source (it runs there)."""
    chosen: dict[str, Vm] = {}
    for vm in vms:
        if vm.name not in chosen or incoming(chosen[vm.name]):
            chosen[vm.name] = vm
    return list(chosen.values())


def domain_xml(spec: VmSpec) -> str:
    """A libvirt domain definition for a new VM (KVM, one virtio disk, one NIC)."""
    root = ET.Element("domain", {"type": "kvm"})
    ET.SubElement(root, "name").text = spec.name
    meta = ET.SubElement(
        ET.SubElement(root, "metadata"),
        f"{{{METADATA_NS}}}vm",
        {
            "disk_gib": f"{spec.disk_gib:g}",
            "datastore": spec.datastore,
            "pool": spec.pool,
            "workload": spec.workload,
        },
    )
    del meta
    ET.SubElement(root, "memory", {"unit": "KiB"}).text = str(spec.max_memory_mib * 1024)
    ET.SubElement(root, "currentMemory", {"unit": "KiB"}).text = str(spec.memory_mib * 1024)
    ET.SubElement(root, "vcpu", {"placement": "static", "current": str(spec.vcpus)}).text = str(
        spec.max_vcpus
    )
    os_node = ET.SubElement(root, "os")
    ET.SubElement(os_node, "type", {"arch": "x86_64"}).text = "hvm"
    devices = ET.SubElement(root, "devices")
    disk = ET.SubElement(devices, "disk", {"type": "file", "device": "disk"})
    ET.SubElement(disk, "driver", {"name": "qemu", "type": "qcow2"})
    ET.SubElement(disk, "source", {"file": f"{IMAGES}/{spec.datastore}/{spec.name}.qcow2"})
    ET.SubElement(disk, "target", {"dev": "vda", "bus": "virtio"})
    if spec.network:
        nic = ET.SubElement(devices, "interface", {"type": "network"})
        ET.SubElement(nic, "source", {"network": spec.network})
        ET.SubElement(nic, "model", {"type": "virtio"})
    ET.register_namespace("vdctui", METADATA_NS)
    return ET.tostring(root, encoding="unicode") + "\n"
