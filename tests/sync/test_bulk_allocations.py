"""The collector tuned for runs comes back to the process's settings after the last run."""

from __future__ import annotations

import gc
import threading

from atarys.sync.service import bulk_allocations


def test_overlapping_runs_leave_the_collector_as_they_found_it() -> None:
    before = gc.get_threshold()
    first_in, second_done = threading.Event(), threading.Event()
    seen: list[tuple[int, int, int]] = []

    def first() -> None:
        with bulk_allocations():
            first_in.set()
            second_done.wait(10)
            seen.append(gc.get_threshold())  # still tuned: a run is still going

    thread = threading.Thread(target=first)
    thread.start()
    first_in.wait(10)
    with bulk_allocations():
        assert gc.get_threshold() != before
        assert gc.get_freeze_count() > 0
    second_done.set()
    thread.join(10)
    assert seen
    assert seen[0] != before
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
