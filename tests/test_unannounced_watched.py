"""A request is refused as never announced only after the holder watched it stay
unannounced for several of its rounds (its socket heard what was queued meanwhile): a
holder whose event loop was held up for longer than UNANNOUNCED_S does not refuse a
change whose asker announced it while the loop was held (seen in bench/concurrency.py
at 100,000 VMs under load: `vm suspend` refused as unannounced)."""

from __future__ import annotations

from vdctui.fleet_serving import ROUNDS_WATCHED, Unannounced


def test_refused_only_after_being_watched_for_enough_rounds() -> None:
    watched = Unannounced()
    for _ in range(ROUNDS_WATCHED):
        assert watched.overdue([7]) == set()  # the first rounds after a long hold-up
    assert watched.overdue([7]) == {7}


def test_a_request_taken_meanwhile_is_forgotten() -> None:
    watched = Unannounced()
    for _ in range(ROUNDS_WATCHED):
        watched.overdue([7, 8])
    assert watched.overdue([8]) == {8}  # 7 was announced and taken
    assert 7 not in watched.rounds
