"""Starting, sharing bandwidth between, finishing and aborting migrations."""

from __future__ import annotations

from typing import Any

from .lifecycle import VmLifecycle
from .migration import Migration
from .topology import HOST_UP
from .vm import CRASHED, PAUSED, RUNNING, SHUT_OFF, Vm

GIB = 1 << 30
MIB = 1 << 20


class MigrationOps(VmLifecycle):
    """Live and cold migration between hosts."""

    def migrate(
        self,
        name: str,
        target: str,
        *,
        live: bool = True,
        copy_storage: bool = False,
        auto_converge: bool = False,
        max_downtime_ms: float = 300.0,
        max_rounds: int = 30,
        target_datastore: str = "",
        postcopy: bool = False,
        bandwidth_limit: float = 0.0,
        pins: Any = None,
    ) -> Migration:
        """Start moving a VM to `target`; the job advances with `step()`. `pins` (vCPU
        pins, emulator pins, memory nodes) are its definition's on arrival, as `virsh
        migrate --xml` carries a `<cputune>` and `<numatune>` chosen for the target."""
        v = self.vm(name)
        src = self.hosts[v.host]
        if name in self.migrations:
            raise self.refuse(f"VM {name} is already being migrated.")
        tgt = self.check_reachable(target)
        if target == v.host:
            raise self.refuse(f"VM {name} already runs on {target}.")
        fenced_source = not live and src.state != HOST_UP and v.state in (SHUT_OFF, CRASHED)
        if not fenced_source:
            self.check_reachable(v.host)
        if live and v.state not in (RUNNING, PAUSED):
            raise self.refuse(
                f"VM {name} must be running or paused to migrate live (it is {v.state})."
            )
        if not live and v.state != SHUT_OFF and not fenced_source:
            raise self.refuse(f"VM {name} must be shut off for a cold migration (it is {v.state}).")
        if max_rounds < 1 or max_downtime_ms <= 0:
            raise self.refuse("Migration needs at least 1 round and a downtime limit above 0 ms.")
        if max(v.vcpus, v.max_vcpus) > tgt.usable_cpus:
            raise self.refuse(f"Host {target} has only {tgt.usable_cpus} usable CPUs for {name}.")
        if live:
            free = self.memory_free_mib(target)
            if v.memory_mib > free:
                raise self.refuse(
                    f"Host {target} has {free} MiB free, "
                    f"not enough for {name} ({v.memory_mib} MiB)."
                )
        reach = self.host_datastores(target)
        move_disk = v.datastore not in reach
        if move_disk and live and not copy_storage:
            raise self.refuse(
                f"Host {target} does not reach datastore {v.datastore}; "
                "copy the disk along (copy-storage) to move it."
            )
        if move_disk and fenced_source:
            raise self.refuse(
                f"VM {name}'s disk is on {v.datastore} of a host that is down, "
                "so it cannot be copied."
            )
        dest_ds = v.datastore
        if move_disk or (copy_storage and target_datastore):
            dest_ds = self._pick_datastore(v, target, target_datastore)
        if pins is not None:
            self._arriving(name, target, pins)
        m = Migration(
            id=self._next_migration_id,
            vm=name,
            source=v.host,
            target=target,
            live=live,
            started_at=self.now,
            memory_bytes=v.memory_mib * MIB,
            disk_bytes=int(v.disk_gib * GIB) if dest_ds != v.datastore else 0,
            copy_storage=dest_ds != v.datastore,
            target_datastore=dest_ds,
            auto_converge=auto_converge,
            postcopy=postcopy,
            bandwidth_limit=max(float(bandwidth_limit), 0.0),
            max_downtime_ms=float(max_downtime_ms),
            max_rounds=max_rounds,
            links=self._links(v.host, target),
        )
        self._next_migration_id += 1
        reason = self.fail_next.pop(name, None)
        if reason is None:
            reason = self.fail_next.pop("", None)
        if reason is not None:
            m.fail_at_bytes = max(m.data_total / 2.0, 1.0)
            m.fail_reason = reason
        m.begin()
        self.migrations[name] = m
        kind = "live" if live else "cold"
        self.emit(
            "migration.start",
            f"{kind.capitalize()} migration of {name} from {m.source} to {target} started.",
            m.source,
            name,
        )
        if m.state == "running" and m.phase == "cold" and m.disk_bytes == 0:
            m.finish("completed")
            self._settle(m)
        return m

    def _pick_datastore(self, v: Vm, target: str, wanted: str) -> str:
        reach = self.host_datastores(target)
        if wanted:
            if wanted not in reach:
                raise self.refuse(f"Host {target} does not reach datastore {wanted}.")
            if self.datastores[wanted].free_gib < v.disk_gib:
                raise self.refuse(f"Datastore {wanted} has no room for {v.name}'s disk.")
            return wanted
        local = self.local_datastore(target)
        order = ([local] if local else []) + [d for d in reach if d != local]
        for d in order:
            if self.datastores[d].free_gib >= v.disk_gib:
                return d
        raise self.refuse(f"No datastore that {target} reaches has room for {v.name}'s disk.")

    def _links(self, source: str, target: str) -> tuple[str, ...]:
        s, t = self.hosts[source], self.hosts[target]
        links = ["nic:" + source, "nic:" + target]
        if s.rack != t.rack:
            links += ["uplink:" + s.rack, "uplink:" + t.rack]
        return tuple(links)

    def link_gbps(self, link: str) -> float:
        kind, _, name = link.partition(":")
        if kind == "nic":
            h = self.hosts[name]
            return h.nic_gbps * h.nic_factor
        r = self.racks[name]
        return r.uplink_gbps * r.uplink_factor

    def _bandwidths(self) -> dict[str, float]:
        """Bytes/s of each running migration: its path's narrowest fair share."""
        users: dict[str, int] = {}
        for m in self.migrations.values():
            for link in m.links:
                users[link] = users.get(link, 0) + 1
        shares = {
            name: min(self.link_gbps(link) / users[link] for link in m.links) * 1e9 / 8.0
            for name, m in self.migrations.items()
        }
        for name, m in self.migrations.items():
            if m.bandwidth_limit > 0:
                shares[name] = min(shares[name], m.bandwidth_limit)
        return shares

    def advance_migrations(self, dt: float) -> None:
        """Run every migration for `dt` seconds; settle the ones that ended (at self.now)."""
        bws = self._bandwidths()
        for name, m in list(self.migrations.items()):
            m.advance(dt, bws[name], self.vms[name].effective_dirty_rate)
        self._settle_finished()

    def _settle_finished(self) -> None:
        for m in [m for m in self.migrations.values() if m.state != "running"]:
            self._settle(m)

    def _settle(self, m: Migration) -> None:
        self.migrations.pop(m.vm, None)
        self.finished_migrations.append(m)
        v = self.vms[m.vm]
        self._arrived(m.vm, m.state == "completed")
        if m.state == "completed":
            self.migrations_completed += 1
            src = self.hosts[m.source]
            del src.vm_names[v.name]
            self.hosts[m.target].vm_names[v.name] = None
            v.host = m.target
            v.max_downtime_ms = None  # a setting of its QEMU on the source, gone with it
            if m.target_datastore != v.datastore:
                self.datastores[v.datastore].used_gib -= v.disk_gib
                self.datastores[m.target_datastore].used_gib += v.disk_gib
                v.datastore = m.target_datastore
            if v.state == CRASHED:
                v.state = SHUT_OFF
            self.touch("vm", v.name)
            self.refresh_host(src)
            self.refresh_host(self.hosts[m.target])
            info = m.jobinfo()
            self.emit(
                "migration.done",
                f"VM {v.name} moved from {m.source} to {m.target} "
                f"in {info['time_elapsed'] / 1000:.1f} s ({m.rounds} rounds, "
                f"downtime {info['downtime']} ms).",
                m.target,
                v.name,
            )
        elif m.state == "failed":
            self.migrations_failed += 1
            self.emit(
                "migration.failed",
                f"Migration of {v.name} to {m.target} failed: {m.reason}",
                m.source,
                v.name,
            )
        else:
            self.emit(
                "migration.cancelled",
                f"Migration of {v.name} to {m.target} was aborted; it stays on the source.",
                m.source,
                v.name,
            )

    def abort_migration(self, name: str) -> None:
        """Cancel a running migration: the VM stays on its source, as it was."""
        m = self.migrations.get(name)
        if m is None:
            raise self.refuse(f"VM {name} has no migration running.")
        m.finish("cancelled", "Aborted by the operator.")
        self._settle(m)

    def fail_migrations_of(self, host: str, reason: str) -> None:
        """Fail every running migration from or to `host`."""
        for m in list(self.migrations.values()):
            if host in (m.source, m.target):
                m.finish("failed", reason)
                self._settle(m)

    def migration(self, migration_id: int) -> Migration | None:
        for m in list(self.migrations.values()) + list(self.finished_migrations):
            if m.id == migration_id:
                return m
        return None
