"""One migration job: pre-copy rounds over a link, in libvirt's terms.

The fleet gives each running job its bandwidth and the VM's dirty rate for a
time slice; `advance` sends bytes, closes rounds and switches phases exactly
inside the slice, however long it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PAGE = 4096
EPS = 1e-3  # bytes
AUTO_CONVERGE_HARD_LIMIT = 1000  # rounds, even with auto-converge
POSTCOPY_SWITCH_MS = 50.0  # the pause while the VM's device state moves to the target


@dataclass(slots=True)
class Migration:
    id: int
    vm: str
    source: str
    target: str
    live: bool
    started_at: float
    memory_bytes: int
    disk_bytes: int = 0  # copied first when storage moves
    copy_storage: bool = False
    target_datastore: str = ""
    auto_converge: bool = False
    postcopy: bool = False  # switch to post-copy once a pass does not converge
    bandwidth_limit: float = 0.0  # bytes/s; 0: the link's share
    max_downtime_ms: float = 300.0
    max_rounds: int = 30
    links: tuple[str, ...] = ()
    fail_at_bytes: float | None = None  # injected failure: fail once this much is sent
    fail_reason: str = ""
    state: str = "running"  # running | completed | failed | cancelled
    reason: str = ""
    phase: str = "precopy"  # precopy | stop-and-copy | postcopy | copy-storage | cold | done
    rounds: int = 0
    ended_at: float | None = None
    elapsed: float = 0.0
    processed: float = 0.0
    remaining: float = 0.0
    bandwidth: float = 0.0  # bytes/s in the last slice
    dirty_bps: float = 0.0  # effective (throttled) dirty rate in the last slice
    throttle: float = 0.0
    round_dirty: float = 0.0
    round_sent: float = 0.0
    downtime_ms: float = 0.0
    expected_downtime_ms: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def begin(self) -> None:
        """Set up the first phase."""
        if not self.live:
            self.phase = "cold"
            self.remaining = float(self.disk_bytes)
        elif self.copy_storage and self.disk_bytes:
            self.phase = "copy-storage"
            self.remaining = float(self.disk_bytes)
        else:
            self._start_precopy()

    @property
    def data_total(self) -> int:
        total = self.disk_bytes if (self.copy_storage or not self.live) else 0
        return total + (self.memory_bytes if self.live else 0)

    def _start_precopy(self) -> None:
        self.phase = "precopy"
        self.rounds = 1
        self.remaining = float(self.memory_bytes)
        self.round_dirty = 0.0
        self.round_sent = 0.0

    def advance(self, dt: float, bandwidth: float, dirty_rate: float) -> None:
        """Run the job for `dt` seconds at `bandwidth` bytes/s while the VM dirties memory."""
        self.bandwidth = bandwidth
        left = dt
        while self.state == "running":
            self.dirty_bps = dirty_rate * (1.0 - self.throttle) if self.phase == "precopy" else 0.0
            if self.remaining <= EPS:
                self._phase_done()
                continue
            if left <= 0.0:
                return
            if bandwidth <= 0.0:
                self.elapsed += left
                return
            need = self.remaining
            if self.fail_at_bytes is not None:
                need = min(need, max(self.fail_at_bytes - self.processed, 0.0))
            t = min(need / bandwidth, left)
            sent = bandwidth * t
            self.processed += sent
            self.remaining -= sent
            self.elapsed += t
            left -= t
            if self.phase == "precopy":
                self.round_sent += sent
                self.round_dirty = min(
                    float(self.memory_bytes), self.round_dirty + self.dirty_bps * t
                )
            if self.fail_at_bytes is not None and self.processed >= self.fail_at_bytes - EPS:
                self.finish("failed", self.fail_reason or "The migration failed.")
                return

    def _phase_done(self) -> None:
        if self.phase == "copy-storage":
            self._start_precopy()
        elif self.phase in ("cold", "stop-and-copy", "postcopy"):
            self.phase = "done"
            self.remaining = 0.0
            self.finish("completed")
        elif self.phase == "precopy":
            self._end_round()

    def _end_round(self) -> None:
        dirty = self.round_dirty
        bw = self.bandwidth
        stop_time = dirty / bw if bw > 0 else float("inf")
        self.expected_downtime_ms = stop_time * 1000.0
        if stop_time * 1000.0 <= self.max_downtime_ms:
            self.phase = "stop-and-copy"
            self.remaining = dirty
            self.downtime_ms = stop_time * 1000.0
            return
        if self.postcopy:  # the VM runs on the target now; it pulls the pages left
            self.phase = "postcopy"
            self.remaining = dirty
            self.downtime_ms = min(POSTCOPY_SWITCH_MS, self.max_downtime_ms)
            return
        limit = AUTO_CONVERGE_HARD_LIMIT if self.auto_converge else self.max_rounds
        if self.rounds >= limit:
            self.finish(
                "failed",
                f"Migration of {self.vm} did not converge after {self.rounds} rounds: "
                "the guest dirties memory faster than the link can send it.",
            )
            return
        if self.auto_converge and self.rounds >= 2 and dirty > 0.5 * self.round_sent:
            self.throttle = 0.2 if self.throttle == 0.0 else min(0.99, self.throttle + 0.1)
        self.rounds += 1
        self.remaining = dirty
        self.round_dirty = 0.0
        self.round_sent = 0.0

    def finish(self, state: str, reason: str = "") -> None:
        if self.state != "running":
            return
        self.state = state
        self.reason = reason
        self.ended_at = self.started_at + self.elapsed
        self.phase = "done"
        if state == "completed":
            self.remaining = 0.0

    def jobinfo(self) -> dict[str, Any]:
        """Progress in `virsh domjobinfo --rawstats` field names, plus "phase"."""
        done = self.state != "running"
        if done or self.phase in ("stop-and-copy", "postcopy"):
            downtime = self.downtime_ms
        elif self.phase == "precopy" and self.bandwidth > 0:
            downtime = self.expected_downtime_ms or self.max_downtime_ms
        else:
            downtime = 0.0
        remaining = self.remaining
        if self.phase == "copy-storage":
            remaining += self.memory_bytes
        return {
            "time_elapsed": int(round(self.elapsed * 1000.0)),
            "data_total": int(self.data_total),
            "data_processed": int(round(self.processed)),
            "data_remaining": 0 if done else int(round(remaining)),
            "memory_bps": int(round(self.bandwidth)),
            "memory_dirty_rate": int(round(self.dirty_bps / PAGE)),
            "memory_iteration": self.rounds,
            "downtime": int(round(downtime)),
            "phase": self.phase,
        }
