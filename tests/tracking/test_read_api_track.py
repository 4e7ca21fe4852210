"""The travelled track stays short: pings merged in order of time, late ones in their place,
simplified once it grows, so 100,000 pings draw as a few thousand points at most."""

from __future__ import annotations

import math

from apps.tracking.track import TRACK_MAX_POINTS, track_merge


def _wandering(count: int, *, start: int = 0) -> list[list]:
    """A truck heading east with a slow weave, one ping a minute."""
    return [[10.0 + index * 0.0005, 53.5 + 0.01 * math.sin(index / 50), start + index * 60] for index in range(count)]


def test_a_hundred_thousand_pings_in_batches_keep_at_most_a_few_thousand_points():
    points, tolerance = [], 0.0
    pings = _wandering(100_000)
    for offset in range(0, len(pings), 1000):
        points, tolerance = track_merge(points, pings[offset : offset + 1000], tolerance_m=tolerance)

    assert len(points) <= TRACK_MAX_POINTS
    assert points[0] == pings[0] and points[-1][2] == pings[-1][2]  # the ends are kept
    assert [point[2] for point in points] == sorted(point[2] for point in points)
    assert tolerance > 0


def test_a_late_ping_is_put_in_its_place_and_a_repeat_is_left_out():
    points, _ = track_merge([], _wandering(3), tolerance_m=0.0)
    late = [10.2, 53.6, 90]  # between the second (60) and the third (120)
    repeat = [11.0, 54.0, 60]

    merged, _ = track_merge(points, [late, repeat], tolerance_m=0.0)

    assert [point[2] for point in merged] == [0, 60, 90, 120]
    assert merged[1] == points[1]
