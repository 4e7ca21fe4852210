"""The beat jobs: RFQs past their deadline and offers past their validity expire."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.core.context import system_scope, tenant_scope
from apps.core.models import OutboxEvent
from apps.marketplace.models import Offer, Rfq, RfqStatusChange
from apps.marketplace.tasks import marketplace_expire_offers, marketplace_expire_rfqs
from tests.beat import run_beat_job
from tests.marketplace.conftest import offer_body
from tests.support import wait_until


def expire_rfqs() -> int:
    """The beat job, as its tasks run it: each owner of a due RFQ in its own scope."""
    return sum(run_beat_job(marketplace_expire_rfqs))


def expire_offers() -> int:
    """The beat job, as its tasks run it: each carrier of a due offer in its own scope."""
    return sum(run_beat_job(marketplace_expire_offers))


def _past(model, pk, field):
    with system_scope(reason="test: time passes", audit=False):
        model.objects.filter(pk=pk).update(**{field: timezone.now() - timedelta(minutes=1)})


def _status(model, pk) -> str:
    with system_scope(reason="test: read the outcome", audit=False):
        return model.objects.get(pk=pk).status


@pytest.mark.django_db
def test_an_rfq_past_its_deadline_expires_with_its_live_offers(api, shipper, carrier, open_rfq):
    offer_id = (
        api(carrier.staff).post(f"/api/v1/rfqs/{open_rfq['id']}/offers", offer_body(), format="json").json()["id"]
    )
    _past(Rfq, open_rfq["id"], "deadline")

    expired = expire_rfqs()

    assert expired == 1
    assert _status(Rfq, open_rfq["id"]) == "expired"
    assert _status(Offer, offer_id) == "expired"
    with tenant_scope(shipper.org.id):
        assert RfqStatusChange.objects.filter(rfq_id=open_rfq["id"], to_status="expired").count() == 1
        closed = OutboxEvent.objects.get(aggregate_id=open_rfq["id"], event_type="rfq.closed")
        assert OutboxEvent.objects.filter(aggregate_id=offer_id, event_type="offer.expired").count() == 1
    assert closed.payload["status"] == "expired"


@pytest.mark.django_db
def test_the_expiry_job_leaves_rfqs_before_their_deadline_and_closed_ones_alone(api, shipper, open_rfq):
    draft_id = api(shipper.staff).post("/api/v1/rfqs", {**_body_of(open_rfq)}, format="json").json()["id"]
    _past(Rfq, draft_id, "deadline")

    assert expire_rfqs() == 0
    assert _status(Rfq, open_rfq["id"]) == "open"
    assert _status(Rfq, draft_id) == "draft"


@pytest.mark.django_db
def test_running_the_expiry_job_twice_expires_once(api, shipper, open_rfq):
    _past(Rfq, open_rfq["id"], "deadline")

    first, second = expire_rfqs(), expire_rfqs()

    assert (first, second) == (1, 0)
    with tenant_scope(shipper.org.id):
        assert OutboxEvent.objects.filter(aggregate_id=open_rfq["id"], event_type="rfq.closed").count() == 1


@pytest.mark.django_db
def test_an_offer_past_its_validity_expires_and_the_rfq_stays_open(api, carrier, open_rfq):
    offer_id = (
        api(carrier.staff).post(f"/api/v1/rfqs/{open_rfq['id']}/offers", offer_body(), format="json").json()["id"]
    )
    _past(Offer, offer_id, "valid_until")

    assert expire_offers() == 1
    assert _status(Offer, offer_id) == "expired"
    assert _status(Rfq, open_rfq["id"]) == "open"
    # Its carrier may offer again.
    again = api(carrier.staff).post(f"/api/v1/rfqs/{open_rfq['id']}/offers", offer_body(), format="json")
    assert again.status_code == 201


def test_a_real_worker_runs_the_beat_task_and_the_rfq_expires(celery_worker, api, shipper, open_rfq):
    _past(Rfq, open_rfq["id"], "deadline")

    marketplace_expire_rfqs.delay()

    assert wait_until(lambda: _status(Rfq, open_rfq["id"]) == "expired"), "the worker never expired the RFQ"
    assert api(shipper.staff).get(f"/api/v1/rfqs/{open_rfq['id']}").json()["status"] == "expired"


def _body_of(rfq: dict) -> dict:
    """A new draft with the cargo and route of `rfq`."""
    fields = ("title", "weight_kg", "volume_cbm", "currency", "deadline")
    segments = [{key: segment[key] for key in ("origin", "destination")} for segment in rfq["segments"]]
    return {**{field: rfq[field] for field in fields}, "segments": segments}
