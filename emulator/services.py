"""Services behind a load balancer, as users meet them.

A service has a virtual IP and port, a method and members (VM + port, weight, and the
balancer's admin state: ready, drain or maint). Requests arrive at a rate and are
spread over the members the balancer takes as healthy, by weight; each request holds
a session for `session_s` on average, so a member holds rate share × session_s
sessions. A member's VM gets CPU load from its share (`cpu_per_request` vCPU-seconds
per request, on top of its own workload).

What users see:
- a draining member gets no new sessions; the ones it holds end (exponentially, mean
  `session_s`); it reaches zero when fewer than half a session is left;
- a member whose VM stops, crashes or loses its host takes its sessions down with it
  (each a failed request), and the requests sent to it fail until the health check
  notices (`fall` checks `interval_s` apart); it takes traffic again `rise` checks
  after its VM runs again;
- a live migration's pause (its downtime) fails the requests sent to that member
  meanwhile: a small error burst;
- a service with no member to send to fails every request (503).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from .state import FleetState
from .topology import HOST_UP
from .vm import RUNNING

READY, DRAIN, MAINT = "ready", "drain", "maint"
ADMIN_STATES = (READY, DRAIN, MAINT)
METHODS = ("roundrobin", "leastconn")
WINDOW_S = 60.0  # the error rate is over the last minute or so (exponential)
# member row: [vm, port, weight, admin]
VM, PORT, WEIGHT, ADMIN = range(4)


@dataclass(slots=True)
class MemberLive:
    """What the balancer knows of a member now (not saved: rebuilt on load)."""

    sessions: float = 0.0
    lb_up: bool = True  # the balancer's health verdict
    since: float = 0.0  # when the VM's availability last changed
    available: bool = True  # the VM can answer
    req_s: float = 0.0
    cpu_added: float = 0.0  # the CPU share this member put on its VM last
    cpu_set: float = -1.0  # the VM's utilization as this member left it


@dataclass(slots=True)
class Service:
    name: str
    vip: str
    port: int
    method: str = "roundrobin"
    rate: float = 100.0  # requests/s (at the trace's 1.0 when it follows a trace)
    session_s: float = 10.0
    cpu_per_request: float = 0.002  # vCPU-seconds (2 ms of one vCPU)
    interval_s: float = 2.0  # health check
    fall: int = 3
    rise: int = 2
    members: list[list[object]] = field(default_factory=list)
    requests: float = 0.0  # since the service was defined
    failed: float = 0.0
    live: dict[str, MemberLive] = field(default_factory=dict)
    recent_requests: float = 0.0  # decayed over WINDOW_S
    recent_failed: float = 0.0
    # what the balancer knew of each member at the last step, as saved:
    # key -> [sessions, lb_up, since, available]
    held: dict[str, list[object]] = field(default_factory=dict)
    trace: str = ""  # a fleet trace (0..1) the rate follows: rate x its value now

    PERSIST = (
        "name",
        "vip",
        "port",
        "method",
        "rate",
        "session_s",
        "cpu_per_request",
        "interval_s",
        "fall",
        "rise",
        "members",
        "requests",
        "failed",
        "recent_requests",
        "recent_failed",
        "held",
        "trace",
    )

    def member(self, vm: str, port: int) -> list[object] | None:
        return next((m for m in self.members if m[VM] == vm and m[PORT] == port), None)

    @property
    def error_rate(self) -> float | None:
        """Failed requests as a share of requests, over the last minute or so (None: none)."""
        return self.recent_failed / self.recent_requests if self.recent_requests > 0 else None


def key(member: list[object]) -> str:
    return f"{member[VM]}:{member[PORT]}"


class ServiceOps(FleetState):
    """The fleet's services: define, change members' admin state and weight, advance."""

    def __init__(self, seed: int = 0) -> None:
        super().__init__(seed)
        self.services: dict[str, Service] = {}
        self._services_seen_migration = 0  # the last finished migration counted

    def define_service(self, service: Service) -> Service:
        if service.method not in METHODS:
            raise self.refuse(f"A service's method is one of {', '.join(METHODS)}.")
        for member in service.members:
            self.vm(str(member[VM]))
        old = self.services.get(service.name)
        if old is not None:  # keep what the balancer knows of members that stay
            service.live = old.live
            service.requests, service.failed = old.requests, old.failed
            for member in service.members:
                before = old.member(str(member[VM]), int(member[PORT]))  # type: ignore[call-overload]
                if before is not None:
                    member[ADMIN] = before[ADMIN]
        self.services[service.name] = service
        self._settle_members(service)
        self.touch("service", service.name)
        return service

    def _settle_members(self, s: Service) -> None:
        """What the balancer knows of members it has not seen yet: a VM that runs is
        healthy and holds its steady share of sessions (a fleet loaded from its file)."""
        new = {key(m) for m in s.members if key(m) not in s.live}
        for m in s.members:
            if key(m) not in new:
                continue
            saved = s.held.get(key(m))
            if saved is not None:  # as the file kept it
                sessions, lb_up, since, available = saved
                s.live[key(m)] = MemberLive(
                    float(sessions),  # type: ignore[arg-type]
                    bool(lb_up),
                    float(since),  # type: ignore[arg-type]
                    bool(available),
                )
                new.discard(key(m))
                continue
            answers = self.vm_answers(str(m[VM]))
            s.live[key(m)] = MemberLive(lb_up=answers, since=self.now, available=answers)
        if not new:
            return
        lives = [s.live[key(m)] for m in s.members]
        for m, live, share in zip(s.members, lives, shares(s, lives), strict=True):
            if key(m) in new and live.available:
                live.req_s = self.rate_now(s) * share
                live.sessions = live.req_s * s.session_s

    def restore_services(self) -> None:
        for s in self.services.values():
            self._settle_members(s)

    def remove_service(self, name: str) -> None:
        self.services.pop(name, None)
        self.forget("service", name)

    def _member(self, service: str, vm: str, port: int) -> list[object]:
        s = self.services.get(service)
        if s is None:
            raise self.refuse(f"There is no service named {service!r}.")
        m = s.member(vm, port)
        if m is None:
            raise self.refuse(f"Service {service} has no member {vm}:{port}.")
        return m

    def set_member_admin(self, service: str, vm: str, port: int, state: str) -> None:
        if state not in ADMIN_STATES:
            raise self.refuse(f"A member's state is one of {', '.join(ADMIN_STATES)}.")
        self._member(service, vm, port)[ADMIN] = state
        self.touch("service", service)
        self.emit("service.member", f"{service}: {vm}:{port} set to {state}.", None, vm)

    def set_member_weight(self, service: str, vm: str, port: int, weight: int) -> None:
        if not 0 <= weight <= 256:
            raise self.refuse("A member's weight is 0 to 256.")
        self._member(service, vm, port)[WEIGHT] = weight
        self.touch("service", service)

    # --- the users ---------------------------------------------------------------

    def vm_answers(self, vm: str) -> bool:
        v = self.vms.get(vm)
        if v is None or v.state != RUNNING:
            return False
        return self.hosts[v.host].state == HOST_UP

    def advance_services(self, dt: float) -> None:
        """Serve `dt` seconds of requests (the state at the end of the step holds for
        the step; migrations' pauses that ended in it are counted as failures)."""
        if not self.services or dt <= 0:
            return
        downtimes = self._downtimes_since_last()
        decay = math.exp(-dt / WINDOW_S)
        for s in self.services.values():
            self._serve(s, dt, decay, downtimes)
            self.touch("service", s.name)

    def _downtimes_since_last(self) -> dict[str, float]:
        """Seconds of pause of each VM whose live migration completed since last time."""
        paused: dict[str, float] = {}
        for m in self.finished_migrations:
            if m.id <= self._services_seen_migration:
                continue
            self._services_seen_migration = m.id
            if m.state == "completed" and m.live:
                paused[m.vm] = paused.get(m.vm, 0.0) + m.downtime_ms / 1000.0
        return paused

    def rate_now(self, s: Service) -> float:
        """Requests/s arriving now: the rate, times the trace's value when it follows one."""
        t = self.traces.get(s.trace) if s.trace else None
        if t is None:
            return s.rate
        return s.rate * t.values[int(self.now / t.interval_s) % len(t.values)]

    def _serve(self, s: Service, dt: float, decay: float, paused: dict[str, float]) -> None:
        now = self.now
        rate = self.rate_now(s)
        failed = 0.0
        lives = [s.live.setdefault(key(m), MemberLive(since=now)) for m in s.members]
        cut = shares(s, lives)
        for m, live, share in zip(s.members, lives, cut, strict=True):
            vm = str(m[VM])
            answers = self.vm_answers(vm)
            if answers != live.available:  # it changed during this step: at its start
                live.available, live.since = answers, now - dt
                if not answers:
                    failed += live.sessions  # its sessions die with it
                    live.sessions = 0.0
                    # and what is sent to it until the health check notices fails
                    failed += rate * share * s.fall * s.interval_s
            failed += rate * share * paused.get(vm, 0.0)  # a migration's pause
            waited = now - live.since
            if live.lb_up and not answers and waited >= s.fall * s.interval_s:
                live.lb_up = False
            elif not live.lb_up and answers and waited >= s.rise * s.interval_s:
                live.lb_up = True
        cut = shares(s, lives)
        arrivals = rate * dt
        if not any(cut):
            failed += arrivals  # no member to send to: 503
        for m, live, share in zip(s.members, lives, cut, strict=True):
            live.req_s = rate * share if live.available else 0.0
            if share > 0 and live.available:
                live.sessions = live.req_s * s.session_s
            else:  # draining, in maintenance or down: sessions end, none start
                live.sessions *= math.exp(-dt / s.session_s)
                if live.sessions < 0.5:
                    live.sessions = 0.0
            self._load_member(m, live, s)
        s.requests += arrivals
        s.failed += failed
        s.recent_requests = s.recent_requests * decay + arrivals
        s.recent_failed = s.recent_failed * decay + failed
        s.held = {
            key(m): [live.sessions, live.lb_up, live.since, live.available]
            for m, live in zip(s.members, lives, strict=True)
        }

    def _load_member(self, m: list[object], live: MemberLive, s: Service) -> None:
        """Put the member's share of CPU on its VM, on top of its own workload."""
        v = self.vms.get(str(m[VM]))
        if v is None or v.state != RUNNING:
            live.cpu_added = 0.0
            return
        # still as this member left it: take its share off; else its workload moved since
        ours = v.cpu_util == live.cpu_set
        base = max(v.cpu_util - live.cpu_added, 0.0) if ours else v.cpu_util
        added = live.req_s * s.cpu_per_request / max(v.vcpus, 1)
        util = min(base + added, 1.0)
        live.cpu_added, live.cpu_set = util - base, util
        self.set_vm_util(v, util)


def takes_traffic(member: list[object], live: MemberLive) -> bool:
    return member[ADMIN] == READY and live.lb_up and int(member[WEIGHT]) > 0  # type: ignore[call-overload]


def shares(s: Service, lives: list[MemberLive]) -> list[float]:
    """Each member's share of new requests: by weight, over those that take traffic (the
    fluid view of both methods: leastconn evens sessions out, which is the same here)."""
    weights = [
        int(m[WEIGHT]) if takes_traffic(m, live) else 0  # type: ignore[call-overload]
        for m, live in zip(s.members, lives, strict=True)
    ]
    total = sum(weights)
    return [w / total if total else 0.0 for w in weights]
