"""The `tracking-read` benchmark runs: its seed makes a tracked order with its pings and track,
and the scenario answers its metrics (a small number of pings: the test times nothing)."""

from __future__ import annotations

from argparse import Namespace

from bench import tracking_read


def test_the_tracking_read_scenario_seeds_a_tracked_shipment_and_reports_both_medians(committed):
    metrics, notes = tracking_read.run(Namespace(pings=3000, requests=3))

    values = {metric.metric: metric.value for metric in metrics}
    assert {"route_in_process_ms", "eta_in_process_ms"} <= set(values)
    assert values["route_in_process_ms"] > 0 and values["eta_in_process_ms"] > 0
    assert 2 <= values["track_points"] <= 3000
    assert values["pings"] == 3000
    assert notes
