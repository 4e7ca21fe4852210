"""Benchmarks of DESIGN.md §9: `python -m bench <scenario> [--json]` (docs/benchmarks.md).

Kept free of Django imports: bench.loadgen runs in its own process without it.
"""
