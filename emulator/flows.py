"""Network flows between VMs (and from outside the data center), filtered by each VM's
firewall, with injected attacks.

Every VM has an address in 10.0.0.0/8 (from the seed and its name). Flows are made per
minute of virtual time, when asked for (`advance_flows`), deterministically: each running
VM has a few conversations a minute by its pool (web: clients from outside on 443, web
and batch to db on 5432, infra scraping a few VMs on 9100, dev to outside on 443 and ssh
from infra). A record is one (source, destination, protocol, port) with a count of
connection attempts (clients: the documentation ranges 198.51.100.0/24 and
203.0.113.0/24). A VM without a firewall lets everything through; with one, a flow
passes when an egress rule of the source and an ingress rule of the destination allow it
(a VM without firewall counts as allowing). Attacks: a port scan (an outside address
tries 1,000 ports of one VM in a minute), a brute force (300 attempts on port 22), an
internal sweep (a VM tries port 445 on 250 internal addresses).

The firewall is stateful, like nwfilter's `state NEW` rules beside an ESTABLISHED accept:
a flow let through opens a connection (initiator, responder, protocol, port); traffic
back the other way (from the responder to the initiator, the same protocol and port) is
a reply, let through whatever the rules say, while the connection has been seen within
IDLE_S. Anything else is new and goes through the rules: an unsolicited inbound packet,
even one that looks like a reply, is dropped unless an ingress rule allows it.
Connections are not saved with the fleet (a reopened fleet forgets them, as a restarted
host's conntrack does). `send` makes one flow now (tests, the operator's probes).
"""

from __future__ import annotations

import ipaddress
import random
from collections import deque
from dataclasses import dataclass
from typing import Any

from .state import FleetState
from .vm import RUNNING
from .workload import stream_seed

MINUTE = 60.0
RECORDS_KEPT = 500_000
IDLE_S = 600.0  # a connection not seen for this long (up to twice it) is forgotten
NEW, ESTABLISHED = "new", "established"

Connection = tuple[str, str, str, int]  # initiator, responder address, protocol, port


@dataclass(frozen=True, slots=True)
class Flow:
    ts: float
    src: str
    dst: str
    protocol: str
    port: int
    count: int
    allowed: bool
    src_vm: str | None
    dst_vm: str | None
    state: str = NEW  # ESTABLISHED: a reply within a connection the rules let open


@dataclass(slots=True)
class Attack:
    kind: str
    at: float
    source: str  # an address, or a VM name for a sweep
    target: str  # a VM name (scan, brute force) or "" (sweep)


class FlowOps(FleetState):
    """Flows, firewalls and attacks; firewalls and counts are saved with the fleet."""

    def _flows(self) -> dict[str, Any]:
        state = self.__dict__.get("_flow_state")
        if state is None:
            state = self.__dict__["_flow_state"] = {
                "firewalls": {},  # vm -> {"groups": [...], "rules": [rule dicts]}
                "until": None,  # flows made up to this virtual time
                "records": deque(maxlen=RECORDS_KEPT),
                "allowed": {},
                "dropped": {},
                "by_rule": {},
                "attacks": [],
                # connections seen in this IDLE_S period and the one before (a lookup
                # checks both; every IDLE_S the older is dropped: O(1) expiry)
                "connections": ({}, {}),
                "period": None,
            }
        return state

    def flow_state_to_save(self) -> dict[str, Any]:
        state = self._flows()
        return {
            "firewalls": {vm: f for vm, f in state["firewalls"].items() if vm in self.vms},
            "until": state["until"],
            "allowed": state["allowed"],
            "dropped": state["dropped"],
            "by_rule": {str(k): v for k, v in state["by_rule"].items()},
            "attacks": [[a.kind, a.at, a.source, a.target] for a in state["attacks"]],
        }

    def restore_flow_state(self, saved: dict[str, Any] | None) -> None:
        if not saved:
            return
        state = self._flows()
        state["firewalls"] = dict(saved["firewalls"])
        state["until"] = saved["until"]
        state["allowed"] = dict(saved["allowed"])
        state["dropped"] = dict(saved["dropped"])
        state["by_rule"] = {int(k): int(v) for k, v in saved["by_rule"].items()}
        state["attacks"] = [Attack(*a) for a in saved["attacks"]]

    def vm_address(self, name: str) -> str:
        value = stream_seed(self.seed, "address", name) % (1 << 24)
        return str(ipaddress.IPv4Address((10 << 24) + max(value, 1)))

    def set_firewall(self, vm: str, groups: list[str], rules: list[dict[str, Any]]) -> None:
        """The VM's firewall from now on (no groups: nothing filtered)."""
        self.vm(vm)
        self.advance_flows()  # the flows so far went through the firewall as it was
        if groups:
            self._flows()["firewalls"][vm] = {"groups": list(groups), "rules": list(rules)}
        else:
            self._flows()["firewalls"].pop(vm, None)
        self.emit("vm.firewall", f"VM {vm}: firewall of groups {groups or 'none'}.", None, vm)

    def firewall(self, vm: str) -> dict[str, Any] | None:
        return self._flows()["firewalls"].get(vm)

    def inject_attack(self, kind: str, source: str, target: str = "") -> None:
        """Start an attack at the current virtual time (it lasts about a minute)."""
        if kind not in ("port-scan", "brute-force", "internal-sweep"):
            raise self.refuse(f"There is no attack {kind!r}.")
        if kind == "internal-sweep":
            self.vm(source)
        else:
            self.vm(target)
        self.advance_flows()
        self._flows()["attacks"].append(Attack(kind, self.now, source, target))
        self.emit("fault.attack", f"Attack injected: {kind} from {source} {target}".strip())

    def send(self, src: str, dst: str, protocol: str, port: int, count: int = 1) -> Flow:
        """One flow now, through the firewalls (`src`/`dst`: a VM name or an address),
        counted like the fleet's own traffic; a reply to an open connection is let
        through as ESTABLISHED."""
        for end in (src, dst):
            if end not in self.vms:
                try:
                    ipaddress.IPv4Address(end)
                except ValueError:
                    raise self.refuse(f"{end!r} is neither a VM nor an IPv4 address.") from None
        if protocol not in ("tcp", "udp", "icmp") or not 0 <= port <= 65535:
            raise self.refuse(f"There is no flow {protocol} port {port}.")
        self.advance_flows()
        flow = self._record(self.now, src, dst, protocol, port, count, True)
        self._flows()["records"].append(flow)
        return flow

    def flow_counts(self) -> tuple[dict[str, int], dict[str, int], dict[int, int]]:
        self.advance_flows()
        state = self._flows()
        return dict(state["allowed"]), dict(state["dropped"]), dict(state["by_rule"])

    def flow_records(self, since: float) -> list[Flow]:
        """Records from `since` (virtual time, at most a day back) to now, oldest first.
        Minutes this process did not make are made again (the same flows: they are
        deterministic), with today's firewalls deciding what was allowed, and not counted."""
        self.advance_flows()
        state = self._flows()
        kept = state["records"]
        first = kept[0].ts - kept[0].ts % MINUTE if kept else state["until"]
        start = max(since - since % MINUTE, self.now - 86_400.0)
        replayed: list[Flow] = []
        while start < min(first, state["until"]):
            replayed.extend(self._minute(start, tally=False))
            start += MINUTE
        return [r for r in [*replayed, *kept] if r.ts >= since]

    # --- making flows ------------------------------------------------------------------

    def start_flows(self) -> None:
        """Count flows from now on, if they were never counted (a new fleet); a fleet that
        counted them before makes the minutes since when they are next asked for."""
        state = self._flows()
        if state["until"] is None:
            state["until"] = self.now - self.now % MINUTE

    def advance_flows(self) -> None:
        self.start_flows()
        state = self._flows()
        while state["until"] + MINUTE <= self.now:
            state["records"].extend(self._minute(state["until"], tally=True))
            state["until"] += MINUTE

    def _minute(self, start: float, *, tally: bool) -> list[Flow]:
        rng = random.Random(stream_seed(self.seed, "flows", str(int(start // MINUTE))))
        running = [v for v in self.vms.values() if v.state == RUNNING]
        by_pool: dict[str, list[str]] = {}
        for v in running:
            by_pool.setdefault(v.pool, []).append(v.name)
        dbs = by_pool.get("db", [])
        made: list[Flow] = []
        for v in running:
            for src, dst, protocol, port, count in self._normal(v.name, v.pool, dbs, by_pool, rng):
                made.append(
                    self._record(
                        start + rng.random() * MINUTE, src, dst, protocol, port, count, tally
                    )
                )
        for attack in self._flows()["attacks"]:
            if start <= attack.at < start + MINUTE:
                made.extend(self._attack_flows(attack, start, rng, tally))
        return made

    def _normal(
        self, vm: str, pool: str, dbs: list[str], by_pool: dict[str, list[str]], rng: random.Random
    ) -> list[tuple[str | None, str | None, str, int, int]]:
        """(source VM or None for outside, destination VM or None, protocol, port, count)."""
        flows: list[tuple[str | None, str | None, str, int, int]] = []
        if pool == "web":
            flows += [(None, vm, "tcp", 443, rng.randint(1, 30)) for _ in range(rng.randint(1, 3))]
            if dbs:
                flows.append((vm, rng.choice(dbs), "tcp", 5432, rng.randint(5, 50)))
        elif pool == "batch" and dbs:
            flows.append((vm, rng.choice(dbs), "tcp", 5432, rng.randint(1, 20)))
        elif pool == "dev":
            flows.append((vm, None, "tcp", 443, rng.randint(1, 10)))
        elif pool == "infra":
            everyone = [v for vms in by_pool.values() for v in vms]
            for other in rng.sample(everyone, min(5, len(everyone))):
                flows.append((vm, other, "tcp", 9100, 1))
            if by_pool.get("dev") and rng.random() < 0.3:
                flows.append((vm, rng.choice(by_pool["dev"]), "tcp", 22, 1))
        return flows

    def _outside(self, rng: random.Random) -> str:
        """A client on the Internet (documentation ranges stand for it)."""
        base = rng.choice((0xC6336400, 0xCB007100))  # 198.51.100.0/24, 203.0.113.0/24
        return str(ipaddress.IPv4Address(base + rng.randint(1, 254)))

    def _attack_flows(
        self, attack: Attack, start: float, rng: random.Random, tally: bool
    ) -> list[Flow]:
        at = max(attack.at, start)
        src, dst = attack.source, attack.target
        if attack.kind == "port-scan":
            return [
                self._record(at + p * 0.05, src, dst, "tcp", p, 1, tally) for p in range(1, 1001)
            ]
        if attack.kind == "brute-force":
            return [self._record(at, src, dst, "tcp", 22, 300, tally)]
        made = []
        for k in range(250):
            address = str(ipaddress.IPv4Address((10 << 24) + rng.randint(1, (1 << 24) - 2)))
            made.append(self._record(at + k * 0.2, src, address, "tcp", 445, 1, tally))
        return made

    def _record(
        self,
        ts: float,
        src: str | None,
        dst: str | None,
        protocol: str,
        port: int,
        count: int,
        tally: bool,
    ) -> Flow:
        """One record: `src`/`dst` a VM name, an address, or None (a random outside one)."""
        rng = random.Random(int(ts * 1000))
        src_vm = src if src in self.vms else None
        dst_vm = dst if dst in self.vms else None
        src_ip = self.vm_address(src_vm) if src_vm else (src or self._outside(rng))
        dst_ip = self.vm_address(dst_vm) if dst_vm else (dst or self._outside(rng))
        state = self._flows()
        if tally and self._reply(ts, src_ip, dst_ip, protocol, port):
            for vm in (src_vm, dst_vm):
                if vm is not None:
                    state["allowed"][vm] = state["allowed"].get(vm, 0) + count
            return Flow(
                ts, src_ip, dst_ip, protocol, port, count, True, src_vm, dst_vm, ESTABLISHED
            )
        out_rule = self._match(src_vm, "egress", dst_ip, dst_vm, protocol, port)
        in_rule = self._match(dst_vm, "ingress", src_ip, src_vm, protocol, port)
        allowed = out_rule is not False and in_rule is not False
        if tally and allowed:
            self._open(ts, (src_ip, dst_ip, protocol, port))
        if tally:
            for rule in (out_rule, in_rule):
                if allowed and isinstance(rule, int) and rule is not True:
                    state["by_rule"][rule] = state["by_rule"].get(rule, 0) + count
            for vm in (src_vm, dst_vm):
                if vm is not None:
                    counts = state["allowed"] if allowed else state["dropped"]
                    counts[vm] = counts.get(vm, 0) + count
        return Flow(ts, src_ip, dst_ip, protocol, port, count, allowed, src_vm, dst_vm)

    def _connections(self, ts: float) -> tuple[dict[Connection, float], dict[Connection, float]]:
        """(this period's connections, the last period's), rotated as time passes."""
        state = self._flows()
        period = int(ts // IDLE_S)
        if state["period"] is None:
            state["period"] = period
        elif period > state["period"]:  # forward only: a minute's flows come unordered
            current, _ = state["connections"]
            kept = current if state["period"] == period - 1 else {}
            state["connections"] = ({}, kept)
            state["period"] = period
        return state["connections"]  # type: ignore[no-any-return]

    def _open(self, ts: float, connection: Connection) -> None:
        self._connections(ts)[0][connection] = ts

    def _reply(self, ts: float, src: str, dst: str, protocol: str, port: int) -> bool:
        """Is src -> dst the reply of a connection dst opened to src (seen lately)?"""
        current, before = self._connections(ts)
        connection = (dst, src, protocol, port)
        seen = current.get(connection, before.get(connection))
        if seen is None or ts - seen > IDLE_S:
            return False
        current[connection] = ts
        return True

    def _match(
        self,
        vm: str | None,
        direction: str,
        remote_ip: str,
        remote_vm: str | None,
        protocol: str,
        port: int,
    ) -> int | bool:
        """True: not filtered; a rule id: that rule allows it; False: dropped."""
        if vm is None:
            return True
        firewall = self._flows()["firewalls"].get(vm)
        if firewall is None:
            return True
        address = ipaddress.IPv4Address(remote_ip)
        for rule in firewall["rules"]:
            if rule["direction"] != direction:
                continue
            if rule["protocol"] not in ("any", protocol):
                continue
            low, high = rule["port_min"], rule["port_max"]
            if low is not None and not low <= port <= (high if high is not None else low):
                continue
            cidr = rule["remote_cidr"]
            if cidr is not None and address in ipaddress.IPv4Network(cidr, strict=False):
                return int(rule["rule_id"])
            if remote_vm is not None and remote_vm in rule["remote_vms"]:
                return int(rule["rule_id"])
        return False
