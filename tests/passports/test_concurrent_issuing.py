"""Passport codes issued at the same moment by many operators (issue 21 "Tests": concurrent
issuing): real commits, one thread and one database connection per operator, all released
together. The organization's counter of the month hands out 1, 2, 3, ... with no number twice
and none skipped, even when some registrations fail after they took their number."""

from __future__ import annotations

import threading
from collections import defaultdict

import pytest
from django.db import connections

from apps.core.context import tenant_scope
from apps.core.errors import DomainError, ErrorCode
from apps.passports import codes, services
from apps.passports.models import DevicePassport
from tests.passports.conftest import actor_of, passport_input

pytestmark = pytest.mark.usefixtures("committed")

THREADS = 16
PER_THREAD = 10


def _register_concurrently(user, organization, serials_of_thread: list[list[str]]) -> list[list[object]]:
    """Each thread registers its serial numbers one after the other, every thread starting at the
    same moment on its own connection; per thread, per serial: the passport or the error raised."""
    actor = actor_of(user, organization)
    barrier = threading.Barrier(len(serials_of_thread))
    results: list[list[object]] = [[] for _ in serials_of_thread]

    def run(index: int, serials: list[str]) -> None:
        try:
            barrier.wait()
            for serial in serials:
                try:
                    with tenant_scope(organization.id, user_id=user.id):
                        passport = services.passport_register(actor=actor, data=passport_input(serial_number=serial))
                    results[index].append(passport)
                except Exception as error:  # kept, so that the test names it
                    results[index].append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(index, serials)) for index, serials in enumerate(serials_of_thread)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a registration thread hung"
    return results


def _issued(organization) -> list[DevicePassport]:
    """The organization's passports as committed (read afresh, in its scope)."""
    with tenant_scope(organization.id):
        return list(DevicePassport.objects.filter(issuer_organization_id=organization.id).order_by("sequence"))


def _sequences_by_month(passports: list[DevicePassport]) -> dict[str, list[int]]:
    # Grouped by month: a run that straddles midnight at a month's end starts a new counter.
    months: dict[str, list[int]] = defaultdict(list)
    for passport in passports:
        months[passport.year_month].append(passport.sequence)
    return {month: sorted(sequences) for month, sequences in months.items()}


def test_sixteen_operators_registering_at_once_get_distinct_valid_codes_numbered_without_gaps(operator, manufacturer):
    # Given 16 operators' sessions, each with 10 devices to register
    serials = [[f"T{thread:02d}-{n:02d}" for n in range(PER_THREAD)] for thread in range(THREADS)]

    # When they all register at the same moment
    results = _register_concurrently(operator, manufacturer, serials)

    # Then every registration succeeded
    errors = [result for thread in results for result in thread if isinstance(result, Exception)]
    assert errors == []
    returned = [passport.code for thread in results for passport in thread]
    issued = _issued(manufacturer)
    # ... every code is distinct, and what each caller was told is what was committed
    assert len(issued) == len(set(returned)) == THREADS * PER_THREAD
    assert sorted(returned) == sorted(passport.code for passport in issued)
    # ... numbered 1..160 in the month, no number skipped or given twice
    months = _sequences_by_month(issued)
    assert months == {month: list(range(1, len(sequences) + 1)) for month, sequences in months.items()}
    # ... and every code is valid and says what the passport is
    for passport in issued:
        check = codes.code_check(passport.code)
        assert check.valid, (passport.code, check.errors)
        assert (check.parts["company"], check.parts["year_month"], int(check.parts["sequence"])) == (
            passport.company_code,
            passport.year_month,
            passport.sequence,
        )
        assert check.parts["checksum"] == passport.checksum


def test_registrations_that_fail_after_taking_a_number_leave_no_gap(operator, manufacturer):
    # Given 16 operators' sessions with 10 devices each, every third of which is the same device
    # for all of them (one shared serial number per round, so 15 of 16 attempts are refused
    # after the counter was taken, in the middle of everyone else's registrations)
    shared_rounds = range(0, PER_THREAD, 3)
    serials = [
        [f"SHARED-{n:02d}" if n in shared_rounds else f"T{thread:02d}-{n:02d}" for n in range(PER_THREAD)]
        for thread in range(THREADS)
    ]

    # When they all register at the same moment
    results = _register_concurrently(operator, manufacturer, serials)

    # Then each shared device got one passport and every other attempt on it was refused as taken
    outcomes = [result for thread in results for result in thread]
    errors = [result for result in outcomes if isinstance(result, Exception)]
    assert len(errors) == len(shared_rounds) * (THREADS - 1)
    assert all(isinstance(error, DomainError) for error in errors), errors[:3]
    assert {error.code for error in errors} == {ErrorCode.VALIDATION_CONSTRAINT_VIOLATION}
    issued = _issued(manufacturer)
    unique_devices = len(shared_rounds) + THREADS * (PER_THREAD - len(shared_rounds))
    assert len(issued) == unique_devices == len(outcomes) - len(errors)
    assert sorted(p.serial_number for p in issued if p.serial_number.startswith("SHARED-")) == [
        f"SHARED-{n:02d}" for n in shared_rounds
    ]
    # ... and the refused attempts gave their numbers back: 1..N in the month, no gap, no repeat
    months = _sequences_by_month(issued)
    assert months == {month: list(range(1, len(sequences) + 1)) for month, sequences in months.items()}
    assert len({passport.code for passport in issued}) == unique_devices
    assert all(codes.code_check(passport.code).valid for passport in issued)
