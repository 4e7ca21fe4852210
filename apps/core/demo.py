"""Demo data for `make run` (`manage.py seed_demo`): each context registers its seeder in its
AppConfig.ready, and the command runs them in INSTALLED_APPS order (tenancy's organizations and
users first, then KYC, the marketplace, escrow), so that no context imports the others' demos.

A seeder makes its rows through its services, is safe to run again, and returns the lines it
adds to the banner (logins, what it made).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class DemoSeeder:
    name: str
    seed: Callable[[], list[str]]
    # `seed_demo --tokens`: one "<email> <access token>" line per demo user.
    tokens: Callable[[], list[str]] | None = None


_SEEDERS: dict[str, DemoSeeder] = {}


def demo_register(seeder: DemoSeeder) -> None:
    _SEEDERS[seeder.name] = seeder


def demo_seeders() -> list[DemoSeeder]:
    return list(_SEEDERS.values())
