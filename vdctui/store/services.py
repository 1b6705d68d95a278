"""Services (a VIP and port, method, health check) and their members, as defined by
operators: the console's memory of them. What the ADC does now is read from it."""

from __future__ import annotations

from vdctui.model import Service, ServiceMember
from vdctui.store.base import StoreBase


class ServiceStore(StoreBase):
    """Service definitions and their members."""

    def services(self) -> list[Service]:
        members: dict[str, list[ServiceMember]] = {}
        rows = self._db.execute(
            "SELECT service, vm, port, weight FROM service_members ORDER BY service, vm, port"
        )
        for service, vm, port, weight in rows:
            members.setdefault(service, []).append(ServiceMember(vm, port, weight))
        return [
            Service(name, vip, port, method, check, tuple(members.get(name, ())))
            for name, vip, port, method, check in self._db.execute(
                "SELECT name, vip, port, method, health_check FROM services ORDER BY name"
            )
        ]

    def service(self, name: str) -> Service | None:
        return next((s for s in self.services() if s.name == name), None)

    def services_of_vm(self, vm: str) -> list[Service]:
        """The services `vm` is a member of."""
        return [s for s in self.services() if any(m.vm == vm for m in s.members)]

    def put_service(self, service: Service) -> None:
        """Create or replace a service and its members, in one transaction."""
        with self._db.atomic():
            self._db.execute(
                "INSERT INTO services (name, vip, port, method, health_check) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET vip = excluded.vip, "
                "port = excluded.port, method = excluded.method, "
                "health_check = excluded.health_check",
                [service.name, service.vip, service.port, service.method, service.check],
            )
            self._db.execute("DELETE FROM service_members WHERE service = ?", [service.name])
            self._db.conn.executemany(
                "INSERT INTO service_members (service, vm, port, weight) VALUES (?, ?, ?, ?)",
                [(service.name, m.vm, m.port, m.weight) for m in service.members],
            )
