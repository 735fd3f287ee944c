"""The rolling full check's slice: bounded per sweep, the whole rotation within the period."""

from __future__ import annotations

from sundial.domain.full_check import next_slice, slice_size


def test_the_slice_is_ceil_of_n_times_resync_over_the_period_and_at_most_n() -> None:
    assert slice_size(0, 60, 3600) == 0
    assert slice_size(1, 60, 3600) == 1
    assert slice_size(10_000, 60, 3600) == 167
    assert slice_size(5, 60, 30) == 5


def test_the_rotation_covers_every_key_once_per_round_and_wraps() -> None:
    keys = [("ns", f"s{n}") for n in range(7)]
    seen: list[tuple[str, str]] = []
    cursor = None
    for _ in range(3):  # ceil(7 / 3) sweeps
        chosen, cursor = next_slice(keys, cursor, 3)
        seen += chosen
    assert set(seen) == set(keys)
    assert seen[-2:] == [("ns", "s0"), ("ns", "s1")]  # wrapped around
    chosen, _ = next_slice([("ns", "s9")], ("ns", "s5"), 3)  # a vanished cursor: start after it
    assert chosen == [("ns", "s9")]
