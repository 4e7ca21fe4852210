"""Modules stay readable: none under apps/ passes 600 lines (STYLE.md: split a module into a
package by use-case group before it gets there). Migrations are generated and exempt."""

from pathlib import Path

APPS = Path(__file__).resolve().parents[2] / "apps"
LIMIT = 600


def test_no_module_under_apps_is_over_600_lines():
    modules = [path for path in APPS.rglob("*.py") if "migrations" not in path.parts]
    too_long = {
        str(path.relative_to(APPS.parent)): lines
        for path in modules
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > LIMIT
    }

    assert len(modules) > 100  # the walk found the apps
    assert too_long == {}, f"split these into packages by responsibility: {too_long}"
