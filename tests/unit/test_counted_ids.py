"""Counted run IDs are kept until the watermark passes them (issue 10, item 16).

Visibility is eventually consistent: a run counted in one sweep may be missing from the
next listing and show up again in the one after. It must be counted once.
"""

from __future__ import annotations

from tests.unit.test_runs import at, run, sweep

from sundial.domain.runs import Ledger


def test_a_run_missing_from_one_listing_is_not_counted_again_when_it_comes_back() -> None:
    first = sweep(Ledger(), [run(1), run(2)], now=30)  # both closed within the safety lag: kept in C
    assert first.total == 2 and first.counted_ids == {"run-1", "run-2"}
    glitch = sweep(first, [run(1)], now=40)  # run 2 missing from this listing
    assert "run-2" in glitch.counted_ids
    back = sweep(glitch, [run(1), run(2)], now=50)
    assert back.total == 2


def test_a_kept_id_goes_once_the_watermark_passes_its_close_time() -> None:
    first = sweep(Ledger(), [run(1), run(2)], now=30)
    later = sweep(first, [], now=20 + 120 + 1)  # the watermark is past run 2's close time (20 s)
    assert later.closed_through is not None and later.closed_through > at(20)
    assert later.counted_ids == frozenset()


def test_counted_ids_are_stored_with_their_close_time_and_read_back() -> None:
    first = sweep(Ledger(), [run(1)], now=30)
    status = first.to_status()
    assert (status["accounting"] or {})["countedIds"] == ["run-1@2026-11-21T09:00:10Z"]
    again = Ledger.from_status(status)
    assert again.counted_ids == {"run-1"} and dict(again.counted_closed) == {"run-1": at(10)}
    assert Ledger.from_status({"accounting": {"countedIds": ["legacy"]}}).counted_ids == {"legacy"}
