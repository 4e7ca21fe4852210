"""The schema fuzz (tests/fuzz) runs with `make fuzz` only: it takes minutes, so `make test`
deselects it, and MANIFEST_FUZZ=1 (set by `make fuzz`) selects it."""

from __future__ import annotations

import os


def pytest_collection_modifyitems(config, items):
    if os.environ.get("MANIFEST_FUZZ") == "1":
        return
    fuzz = [item for item in items if item.get_closest_marker("fuzz")]
    if fuzz:
        config.hook.pytest_deselected(items=fuzz)
        items[:] = [item for item in items if not item.get_closest_marker("fuzz")]
