"""Forward-secure sealing of the audit log, after journald's Forward Secure Sealing.

Time is cut into epochs of fixed length from the moment the seal begins. Epoch 0's
key K_0 is random; K_{e+1} = HMAC-SHA256(K_e, "next epoch key"), so any later key
follows from an earlier one and never the reverse. Every record is sealed as it is
written: seal = HMAC-SHA256(K_e, seal id | e | the record's canonical text). When
an epoch ends, a closing tag (the epoch, the epoch that follows, the last record's
id and hash, how many records the epoch holds) is sealed with K_e, and K_e is
overwritten by the next key. The file then holds only the current key: records of
earlier epochs can no longer be re-sealed, by anyone who gets the machine later.

The auditor keeps K_0 (with the start, the epoch length and the first sealed id)
away from the machine and derives every epoch key from it. This module is pure:
key material, seals, and the walk that checks a log against a key.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from vdctui.frozen import frozen
from vdctui.imports import on_first_use
from vdctui.model import AuditProblem
from vdctui.store.errors import StoreError

if TYPE_CHECKING:
    import hmac
else:  # run when a seal is made or checked: a CLI read does neither (issue 10)
    hmac = on_first_use("hmac")

KEY_PREFIX = "vdctui-seal1"
ENDED = -1  # a closing tag's next epoch when its seal was replaced by a new one
INIT_EPOCH = -1  # the tag that anchors the log as it was when the seal began
_NEXT_KEY = b"vdctui audit seal: next epoch key"
_SEAL_ID = b"vdctui audit seal: id"
_KEY_TEXT = re.compile(
    rf"{KEY_PREFIX}:(?P<key>[0-9a-f]{{64}}):(?P<started>\d{{1,12}}):(?P<epoch>\d{{1,9}})"
    r":(?P<first>\d{1,18})"
)


def next_key(key: bytes) -> bytes:
    return hmac.digest(key, _NEXT_KEY, "sha256")


def evolve(key: bytes, steps: int) -> bytes:
    for _ in range(steps):
        key = next_key(key)
    return key


def seal_id_of(initial: bytes) -> str:
    """A name for the seal that the key implies (it does not reveal the key)."""
    return hmac.digest(initial, _SEAL_ID, "sha256").hex()[:32]


def record_seal(key: bytes, seal_id: str, epoch: int, text: str) -> str:
    """The seal of one record: its canonical text (which holds its id) under K_epoch."""
    return record_sealer(key, seal_id, epoch)(text)


def record_sealer(key: bytes, seal_id: str, epoch: int) -> Callable[[str], str]:
    """`record_seal` with the key and epoch bound, for a batch of records."""
    prefix = f"{seal_id}\x1f{epoch}\x1f".encode()
    keyed = hmac.new(key, prefix, "sha256")  # the key and prefix hashed once per batch

    def seal(text: str) -> str:
        mac = keyed.copy()
        mac.update(text.encode())
        return mac.hexdigest()

    return seal


def when(ts: float) -> str:
    try:
        return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    except (OverflowError, OSError, ValueError):
        return f"{ts!r}"


@frozen
class SealKey:
    """What `audit seal init` prints once: K_0 and the epoch parameters."""

    initial: bytes
    started: float
    epoch_s: float
    first_id: int

    @property
    def seal_id(self) -> str:
        return seal_id_of(self.initial)

    def text(self) -> str:
        return (
            f"{KEY_PREFIX}:{self.initial.hex()}:{int(self.started)}:{int(self.epoch_s)}"
            f":{self.first_id}"
        )

    @classmethod
    def parse(cls, text: str) -> SealKey:
        found = _KEY_TEXT.fullmatch(text.strip())
        if found is None or int(found["epoch"]) < 1:
            raise StoreError(
                f"that is not a vdctui seal key (it looks like {KEY_PREFIX}:<64 hex digits>"
                ":<start>:<epoch seconds>:<first record>)"
            )
        return cls(
            bytes.fromhex(found["key"]),
            float(found["started"]),
            float(found["epoch"]),
            int(found["first"]),
        )


def epoch_at(started: float, epoch_s: float, now: float) -> int:
    """The epoch `now` falls in (0 before the start: a clock never moves a seal back)."""
    if not math.isfinite(now) or now <= started:
        return 0
    return int((now - started) // epoch_s)


@frozen
class EpochTag:
    """An epoch's closing tag: where the chain stood when the epoch's key was erased."""

    epoch: int
    next_epoch: int
    last_id: int
    last_hash: str
    count: int
    mac: str = ""

    def message(self, seal_id: str) -> bytes:
        return (
            f"tag\x1f{seal_id}\x1f{self.epoch}\x1f{self.next_epoch}\x1f{self.last_id}"
            f"\x1f{self.last_hash}\x1f{self.count}"
        ).encode()

    def sealed(self, key: bytes, seal_id: str) -> EpochTag:
        mac = hmac.digest(key, self.message(seal_id), "sha256").hex()
        return EpochTag(self.epoch, self.next_epoch, self.last_id, self.last_hash, self.count, mac)

    def holds(self, key: bytes, seal_id: str) -> bool:
        expected = hmac.digest(key, self.message(seal_id), "sha256").hex()
        return hmac.compare_digest(expected, str(self.mac))


@frozen
class SealRecord:
    """One seal as the log keeps it (the history of seals, one row each)."""

    seal_id: str
    started: float
    epoch_s: float
    first_id: int
    replaced_at: int | None  # the first record of the seal that replaced this one


@frozen
class LiveSeal:
    """The active seal's state on this machine: its current epoch and key."""

    seal_id: str
    started: float
    epoch_s: float
    epoch: int
    key: bytes
    count: int  # records sealed in the current epoch


@frozen
class SealedRow:
    """What the walk needs of a record: its id, canonical text, hash and seal."""

    id: int
    text: str | None  # None when a field is mangled beyond a canonical text
    hash: str
    epoch: int | None
    seal: str | None


class _EpochKeys:
    """K_e for any e, derived from K_0 (forward from the last one asked for)."""

    def __init__(self, initial: bytes) -> None:
        self._initial = initial
        self._epoch, self._key = 0, initial

    def __call__(self, epoch: int) -> bytes:
        if epoch < self._epoch:
            self._epoch, self._key = 0, self._initial
        self._key = evolve(self._key, epoch - self._epoch)
        self._epoch = epoch
        return self._key


def _records(first: int, last: int) -> str:
    return f"record {first}" if first == last else f"records {first}–{last}"


def _records_are(first: int, last: int, verb: str = "are") -> str:
    singular = {"are": "is", "were": "was"}[verb]
    return f"{_records(first, last)} {singular if first == last else verb}"


class SealCheck:
    """The walk over a seal's records, in id order, naming every place it fails."""

    def __init__(
        self, key: SealKey, seal: SealRecord, tags: dict[int, EpochTag], max_problems: int
    ) -> None:
        self.key, self.seal, self.tags = key, seal, tags
        self.keys = _EpochKeys(key.initial)
        self.max_problems = max_problems
        self.problems: list[AuditProblem] = []
        self.notes: list[str] = []
        self.epoch = 0
        self.count = 0  # records seen in self.epoch
        self.first_in_epoch = key.first_id
        self.last_id = key.first_id - 1
        self.last_hash = ""
        self.visited: set[int] = set()
        self._sealer: tuple[int, Callable[[str], str]] | None = None

    def problem(self, record_id: int, text: str) -> None:
        if len(self.problems) < self.max_problems:
            self.problems.append(AuditProblem(record_id, text))

    def start(self, before: tuple[int, str] | None) -> None:
        """Check the tag that anchors the records written before the seal began."""
        first = self.key.first_id
        tag = self.tags.get(INIT_EPOCH)
        self.visited.add(INIT_EPOCH)
        if tag is None or not tag.holds(self.keys(0), self.seal.seal_id):
            self.problem(first, "the seal's starting point is missing or was rewritten")
            return
        self.last_hash = tag.last_hash
        if first == 1:
            return
        if before is None or before[0] != first - 1:
            self.problem(first - 1, f"record {first - 1}, the last before the seal, is missing")
        elif before[1] != tag.last_hash:
            self.problem(
                first - 1,
                f"{_records_are(1, first - 1, 'were')} (from before the seal) rewritten after the "
                f"seal began: record {first - 1}'s hash is not the one the seal recorded",
            )
        else:
            self.notes.append(
                f"{_records_are(1, first - 1, 'were')} written before the seal began: the seal "
                f"covers them as a whole, through record {first - 1}'s hash"
            )

    def walk(self, rows: Iterable[SealedRow]) -> None:
        for row in rows:
            if len(self.problems) >= self.max_problems:
                self.problems.append(
                    AuditProblem(
                        row.id,
                        f"seal verification stopped at record {row.id} after "
                        f"{self.max_problems} problems; the rest was not checked",
                    )
                )
                self.max_problems = 0  # nothing more is added (finish() included)
                return
            if row.epoch is None or row.seal is None:
                self.problem(row.id, f"record {row.id} is not sealed: it was added or rewritten")
                continue
            if row.epoch < self.epoch:
                self.problem(
                    row.id,
                    f"record {row.id} claims epoch {row.epoch}, before the record ahead of it "
                    f"(epoch {self.epoch}): it was moved or forged",
                )
            elif row.epoch > self.epoch:
                self.move_to(row.epoch)
                self.epoch, self.count, self.first_in_epoch = row.epoch, 0, row.id
            expected = None if row.text is None else self.sealer(row.epoch)(row.text)
            if expected is None or not hmac.compare_digest(expected, str(row.seal)):
                self.problem(
                    row.id,
                    f"record {row.id} was rewritten after it was sealed "
                    f"(its seal for epoch {row.epoch} does not hold)",
                )
            self.count += 1
            self.last_id, self.last_hash = row.id, row.hash

    def sealer(self, epoch: int) -> Callable[[str], str]:
        """The seal function of `epoch` (kept while the walk stays in one epoch)."""
        if self._sealer is None or self._sealer[0] != epoch:
            self._sealer = (epoch, record_sealer(self.keys(epoch), self.seal.seal_id, epoch))
        return self._sealer[1]

    def move_to(self, target: int) -> None:
        """From the walk's epoch to `target` (where the records go on): each epoch on the
        way, the empty ones a quiet machine closed included, must be closed by its tag."""
        epoch = self.epoch
        while epoch < target:
            tag = self.close(epoch)
            if tag is None:
                return
            if not epoch < tag.next_epoch <= target:
                self.problem(
                    self.last_id,
                    f"after epoch {epoch} the records go on in epoch {target}, but its seal "
                    f"says epoch {tag.next_epoch} came next: records were removed or moved",
                )
                return
            epoch, self.count = tag.next_epoch, 0

    def close(self, epoch: int) -> EpochTag | None:
        """Check epoch `epoch`'s closing tag against what the walk saw of it."""
        tag = self.tags.get(epoch)
        self.visited.add(epoch)
        at = self.last_id
        if tag is None:
            self.problem(
                at,
                f"epoch {epoch} has no closing seal: records were removed from its end, "
                "or its seal was deleted",
            )
            return None
        if not tag.holds(self.keys(epoch), self.seal.seal_id):
            self.problem(at, f"epoch {epoch}'s closing seal was rewritten")
            return None
        if tag.last_id > self.last_id:
            self.problem(
                self.last_id + 1,
                f"{_records_are(self.last_id + 1, tag.last_id)} missing from epoch {epoch} "
                f"(its seal ends at record {tag.last_id})",
            )
        elif tag.last_id < self.last_id:
            self.problem(
                tag.last_id + 1,
                f"{_records_are(tag.last_id + 1, self.last_id, 'were')} added to epoch {epoch} "
                "after it was sealed",
            )
        elif tag.last_hash != self.last_hash:
            self.problem(
                at,
                f"the chain was recomputed after epoch {epoch} was sealed: record {at}'s "
                "hash is not the one its seal recorded",
            )
        if tag.count != self.count and tag.last_id == self.last_id:
            self.problem(
                at, f"epoch {epoch}'s seal counts {tag.count} records; the log has {self.count}"
            )
        return tag

    def finish(self, live: LiveSeal | None, now: float) -> None:
        """After the last record: follow the closing tags to the open epoch, check the
        live key (or the replacement), and say what the key cannot vouch for."""
        epoch = self.epoch
        tag = self.tags.get(epoch)
        while tag is not None and tag.next_epoch != ENDED:
            tag = self.close(epoch)
            if tag is None:
                return
            if tag.next_epoch <= epoch:
                self.problem(self.last_id, f"epoch {epoch}'s seal points back to an epoch")
                return
            epoch, self.count, self.first_in_epoch = tag.next_epoch, 0, self.last_id + 1
            tag = self.tags.get(epoch)
        if tag is not None:  # the seal was replaced: its last epoch was closed then
            self.close(epoch)
        extra = sorted(e for e in self.tags if e not in self.visited)
        if extra:
            named = (
                f"epoch {extra[0]} was"
                if len(extra) == 1
                else f"epochs {', '.join(map(str, extra))} were"
            )
            self.problem(
                self.last_id + 1,
                f"{named} sealed but the walk from the records never reached "
                f"{'it' if len(extra) == 1 else 'them'}: records or seals were removed",
            )
        if self.seal.replaced_at is not None:
            self.problem(
                self.seal.replaced_at,
                f"the seal was replaced at record {self.seal.replaced_at}: records from "
                "there on are not covered by this key (ask for the new one)",
            )
            return
        self._check_live(live, epoch, now)

    def _check_live(self, live: LiveSeal | None, epoch: int, now: float) -> None:
        at = self.last_id
        if live is None or live.seal_id != self.seal.seal_id:
            self.problem(at, "the seal's current key is missing from the log")
            return
        if live.epoch != epoch or not hmac.compare_digest(live.key, self.keys(epoch)):
            self.problem(
                at,
                f"the seal's current key is not epoch {epoch}'s: the seal was rewound "
                "or rewritten, and later records may be missing",
            )
            return
        if live.count != self.count:
            self.problem(
                at, f"the current epoch counts {live.count} records; the log has {self.count}"
            )
        ends = self.key.started + (epoch + 1) * self.key.epoch_s
        if self.count:
            self.notes.append(
                f"{_records_are(self.first_in_epoch, self.last_id)} of the current epoch "
                f"({epoch}, until {when(ends)}): its key is still on the machine, so a "
                f"rewrite of {'it' if self.first_in_epoch == self.last_id else 'them'} "
                "cannot be told apart until the epoch ends"
            )
        behind = epoch_at(self.key.started, self.key.epoch_s, now) - epoch
        if behind > 1:
            self.notes.append(
                f"the seal is {behind} epochs behind the clock: no vdctui process wrote to "
                f"this log since {when(self.key.started + epoch * self.key.epoch_s)}"
            )
