"""The response window: a reminder before it ends (once), mediation once it has passed without
an answer, in process and by a real worker running the beat job."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.core.context import system_scope
from apps.core.models import OutboxEvent
from apps.disputes.models import Dispute
from apps.disputes.tasks import disputes_deadlines
from tests.beat import run_beat_job
from tests.disputes.test_disputes_api import open_case
from tests.support import wait_until


def _due_in(dispute_id, delta: timedelta) -> None:
    with system_scope(reason="test: move the deadline"):
        Dispute.objects.filter(pk=dispute_id).update(response_due_at=timezone.now() + delta)


def _case(dispute_id) -> Dispute:
    with system_scope(reason="test: read the case"):
        return Dispute.objects.get(pk=dispute_id)


def _due_events(dispute_id) -> list[str]:
    with system_scope(reason="test: read the outbox"):
        rows = OutboxEvent.objects.filter(event_type="dispute.response_due", aggregate_id=str(dispute_id))
        return sorted(row.payload["stage"] for row in rows)


@pytest.mark.django_db
def test_the_awaited_side_is_reminded_once_then_the_overdue_case_goes_to_mediation(api, client_party, order):
    case = open_case(api, client_party, order).json()
    far = run_beat_job(disputes_deadlines)
    _due_in(case["id"], timedelta(hours=3))

    reminded = run_beat_job(disputes_deadlines)
    again = run_beat_job(disputes_deadlines)
    _due_in(case["id"], -timedelta(minutes=1))
    escalated = run_beat_job(disputes_deadlines)

    assert far == []  # nothing due within the reminder window
    assert reminded == [{"reminded": 1, "escalated": 0, "closed": 0}]
    assert again == [{"reminded": 0, "escalated": 0, "closed": 0}]
    assert escalated == [{"reminded": 0, "escalated": 1, "closed": 0}]
    moved = _case(case["id"])
    assert moved.status == "in_mediation" and moved.response_due_at is None
    assert _due_events(case["id"]) == ["overdue", "reminder"]
    history = api(client_party.staff).get(f"/api/v1/disputes/{case['id']}").json()["history"]
    assert history[-1]["to_status"] == "in_mediation" and history[-1]["by"] is None
    assert run_beat_job(disputes_deadlines) == []


@pytest.mark.django_db
def test_an_answered_case_is_not_escalated(api, client_party, supplier_party, order):
    case = open_case(api, client_party, order).json()
    api(supplier_party.staff).post(
        f"/api/v1/disputes/{case['id']}/evidence", {"statement": "Delivered intact."}, format="json"
    )

    assert run_beat_job(disputes_deadlines) == []
    assert _case(case["id"]).status == "under_review"


def test_a_real_worker_runs_the_beat_job_and_the_overdue_case_goes_to_mediation(
    celery_worker, api, client_party, order
):
    case = open_case(api, client_party, order).json()
    _due_in(case["id"], -timedelta(minutes=1))

    disputes_deadlines.delay()

    assert wait_until(lambda: _case(case["id"]).status == "in_mediation"), "the worker never escalated the case"
    assert api(client_party.staff).get(f"/api/v1/disputes/{case['id']}").json()["status"] == "in_mediation"
