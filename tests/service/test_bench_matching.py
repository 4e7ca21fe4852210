"""The `matching` scenario (bench/matching.py) on small numbers: its seed writes real experts (valid
codes, the area table filled by its trigger) and orders, its run matches every order through the
service, and it prints the JSON lines docs/benchmarks.md reads. The test times nothing."""

from __future__ import annotations

import json

from apps.core.context import system_scope
from apps.service import codes
from apps.service.models import ExpertArea, ExpertPassport, MatchingResult
from bench import matching as bench_matching

METRICS = {
    "experts_per_s",
    "p95_ms",
    "p50_ms",
    "max_ms",
    "candidates_per_order",
    "matched_per_order",
    "orders",
    "offers",
    "experts",
}


def test_a_tiny_run_seeds_real_experts_matches_every_order_and_reports_its_metrics(committed):
    # Given the scenario's seed at a tiny size
    seeded = bench_matching._seed(experts=400, organizations=4, orders=12, seed=5)

    # When it is analyzed and measured (two orders untimed), and its metrics printed as JSON lines
    bench_matching._analyze()
    measured = bench_matching._measure(seeded, warmup=2)
    lines = [json.loads(metric.json_line()) for metric in bench_matching.metrics(seeded, measured)]

    # Then every line has the harness's keys, and every metric is there once
    assert all(set(line) == {"scenario", "metric", "value", "unit"} for line in lines)
    assert {line["scenario"] for line in lines} == {"matching"}
    assert sorted(line["metric"] for line in lines) == sorted(METRICS)
    values = {line["metric"]: line["value"] for line in lines}
    assert values["orders"] == 10
    assert values["p50_ms"] <= values["p95_ms"] <= values["max_ms"]
    assert values["experts"] == seeded.published
    # ... the experts are real rows: valid codes, the published ones with their area indexed
    with system_scope(reason="test: the seeded experts", audit=False):
        experts = list(ExpertPassport.objects.values_list("code", "is_published"))
        areas = ExpertArea.objects.count()
        results = MatchingResult.objects.count()
    assert len(experts) == 400
    assert all(codes.code_check(code).valid for code, _ in experts)
    assert areas == sum(1 for _, published in experts if published) == seeded.published
    # ... and each timed order's matches are among its candidates, and they were stored
    assert len(measured.candidates) == len(measured.matched) == 10
    assert all(
        0 <= matched <= candidates for matched, candidates in zip(measured.matched, measured.candidates, strict=True)
    )
    assert sum(measured.matched) > 0
    assert results > 0
