"""Disputes in the back-office: staff see every case and its mediation page (the case, the order,
the escrow's balances, each side's evidence side by side with previews and downloads, the
history) and act through the services from it; an organization admin of a party reads the same
page without forms and cannot act; a third organization's admin sees nothing."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from PIL import Image

from apps.core.context import system_scope, tenant_scope
from apps.disputes import services
from apps.disputes.admin import evidence_cards
from apps.disputes.models import Dispute, DisputeEvidence, DisputeResolution
from apps.escrow.models import Escrow
from tests.disputes.test_disputes_api import open_case
from tests.escrow.parties import order_between
from tests.factories import UserFactory
from tests.support import admin_client as logged_in

pytestmark = pytest.mark.django_db

CASES = reverse("admin:disputes_dispute_changelist")


@pytest.fixture
def staff():
    return UserFactory(is_staff=True, is_superuser=True)


def page_of(case_id) -> str:
    return reverse("admin:disputes_dispute_change", args=[case_id])


def act_url(case_id, action: str) -> str:
    return reverse("admin:disputes_dispute_act", args=[case_id, action])


def photo() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), "brown").save(buffer, format="PNG")
    return buffer.getvalue()


def add_evidence(api, party, case_id, *, statement: str = "", file: bytes | None = None) -> dict:
    data = {"statement": statement}
    if file is not None:
        data["file"] = SimpleUploadedFile("pallets.png", file, content_type="image/png")
    response = api(party.staff).post(f"/api/v1/disputes/{case_id}/evidence", data, format="multipart")
    assert response.status_code == 201, response.json()
    return response.json()


def draw_preview(evidence_id) -> None:
    """What the worker does on commit (tests/disputes/test_previews.py runs a real one)."""
    with system_scope(reason="test: find the evidence"):
        organization_id = DisputeEvidence.objects.get(pk=evidence_id).client_organization_id
    with tenant_scope(organization_id):
        services.evidence_preview_render(evidence_id=evidence_id)


@pytest.fixture
def case(api, client_party, supplier_party, order, funded_escrow) -> dict:
    """A case about an escrowed order, with a statement and a photo from the client and the
    supplier's answer."""
    opened = open_case(api, client_party, order).json()
    add_evidence(api, client_party, opened["id"], statement="Two pallets crushed, photos attached.")
    picture = add_evidence(api, client_party, opened["id"], file=photo())
    draw_preview(picture["id"])
    add_evidence(api, supplier_party, opened["id"], statement="Loaded intact; see the signed CMR.")
    return {**opened, "photo_id": picture["id"]}


def test_staff_see_every_case_in_the_list(staff, case, client_party):
    listed = logged_in(staff).get(CASES)

    assert listed.status_code == 200
    body = listed.content.decode()
    assert case["number"] in body and "Baltic Shippers" in body
    by_number = logged_in(staff).get(CASES, {"q": case["number"]}).content.decode()
    assert case["number"] in by_number
    unassigned = logged_in(staff).get(CASES, {"mediator": "none", "status": "under_review"}).content.decode()
    assert case["number"] in unassigned
    assert case["number"] not in logged_in(staff).get(CASES, {"status": "closed"}).content.decode()


def test_the_mediation_page_shows_the_case_the_money_and_each_sides_evidence(staff, case):
    response = logged_in(staff).get(page_of(case["id"]))

    assert response.status_code == 200
    body = response.content.decode()
    assert "Two pallets arrived crushed." in body  # the description
    assert reverse("admin:orders_order_change", args=[case["order_id"]]) in body
    held = body.split('id="escrow-held"')[1].split("</td>")[0]
    assert "1000.00 EUR" in held
    client_column = body.split('id="evidence-client"')[1].split('id="evidence-supplier"')[0]
    supplier_column = body.split('id="evidence-supplier"')[1].split('id="dispute-timeline"')[0]
    assert "Two pallets crushed" in client_column and "Loaded intact" not in client_column
    assert "Loaded intact" in supplier_column and "Two pallets crushed" not in supplier_column
    preview_url = reverse("admin:disputes_dispute_evidence", args=[case["id"], case["photo_id"], "preview"])
    assert f'src="{preview_url}"' in client_column
    for action in ("mediator", "request-information", "statement", "status", "resolution"):
        assert f'id="form-{action}"' in body
    timeline = body.split('id="dispute-timeline"')[1].split('id="dispute-resolutions"')[0]
    assert timeline.index("entry-dispute_opened") < timeline.index("entry-evidence_added")
    assert timeline.count("entry-evidence_added") == 3 and "entry-escrow_frozen" in timeline
    assert "<td></td>" not in timeline  # every entry has its time


def test_the_preview_and_the_file_stream_from_the_back_office(staff, case):
    client = logged_in(staff)
    preview = client.get(reverse("admin:disputes_dispute_evidence", args=[case["id"], case["photo_id"], "preview"]))
    download = client.get(reverse("admin:disputes_dispute_evidence", args=[case["id"], case["photo_id"], "file"]))

    assert preview.status_code == 200 and preview["Content-Type"] == "image/png"
    assert Image.open(io.BytesIO(b"".join(preview.streaming_content))).size == (64, 48)
    assert download.status_code == 200 and b"".join(download.streaming_content) == photo()
    assert "attachment" in download["Content-Disposition"]


def test_an_evidence_of_another_case_is_not_served_through_this_one(staff, api, case, client_party, supplier_party):
    other_order = order_between(client_party, supplier_party)
    other = open_case(api, client_party, other_order).json()

    response = logged_in(staff).get(
        reverse("admin:disputes_dispute_evidence", args=[other["id"], case["photo_id"], "file"])
    )

    assert response.status_code == 404


def test_an_organization_admin_of_a_party_reads_the_page_without_forms(case, client_party, supplier_party):
    for party in (client_party, supplier_party):
        client = logged_in(party.admin)

        listed = client.get(CASES)
        page = client.get(page_of(case["id"]))
        preview = client.get(reverse("admin:disputes_dispute_evidence", args=[case["id"], case["photo_id"], "preview"]))
        acted = client.post(act_url(case["id"], "status"), {"status": "in_mediation", "reason": "me"})

        assert case["number"] in listed.content.decode()
        body = page.content.decode()
        assert page.status_code == 200 and "Loaded intact" in body and "Two pallets crushed" in body
        assert body.split('id="dispute-timeline"')[1].count("entry-evidence_added") == 3
        assert "mediation-form" not in body and "csrfmiddlewaretoken" not in body.split('id="dispute-case"')[1]
        assert preview.status_code == 200
        assert acted.status_code == 403
    with system_scope(reason="test: read the case"):
        assert Dispute.objects.get(pk=case["id"]).status == "under_review"


def test_a_third_organizations_admin_sees_no_case(case, outsider):
    client = logged_in(outsider.admin)

    assert case["number"] not in client.get(CASES).content.decode()
    assert client.get(page_of(case["id"])).status_code in (302, 404)
    preview = client.get(reverse("admin:disputes_dispute_evidence", args=[case["id"], case["photo_id"], "preview"]))
    assert preview.status_code == 404


def case_now(case_id) -> Dispute:
    with system_scope(reason="test: read the case"):
        return Dispute.objects.select_related("mediator").get(pk=case_id)


def escrow_now(escrow_id) -> Escrow:
    with system_scope(reason="test: read the escrow"):
        return Escrow.objects.get(pk=escrow_id)


def test_staff_assign_a_mediator_and_ask_the_supplier_for_information(staff, mediator, case):
    client = logged_in(staff)

    assigned = client.post(act_url(case["id"], "mediator"), {"mediator": mediator.pk})
    asked = client.post(
        act_url(case["id"], "request-information"),
        {"side": "supplier", "question": "Send the loading photos, please.", "due_at": ""},
        follow=True,
    )

    assert assigned.status_code == 302 and assigned["Location"] == page_of(case["id"])
    moved = case_now(case["id"])
    assert moved.mediator_id == mediator.pk
    assert moved.status == "awaiting_response" and moved.response_side == "supplier"
    assert "the supplier is asked to answer by" in asked.content.decode()
    history = asked.content.decode().split('id="dispute-history"')[1]
    assert "Send the loading photos, please." in history


def test_staff_decide_a_split_of_what_is_held_and_the_money_moves(staff, case, funded_escrow):
    client = logged_in(staff)
    page = client.get(page_of(case["id"])).content.decode()
    # Prefilled with the client's claim (300.00) back to it, the rest of what is held to the supplier.
    assert 'name="refund_amount" value="300.00"' in page and 'name="release_amount" value="700.00"' in page

    decided = client.post(
        act_url(case["id"], "resolution"),
        {
            "kind": "decision",
            "outcome": "split",
            "release_amount": "700.00",
            "refund_amount": "300.00",
            "reason": "Two of six pallets were damaged in transit.",
        },
    )

    assert decided.status_code == 302
    assert case_now(case["id"]).status == "resolved"
    escrow = escrow_now(funded_escrow.id)
    assert escrow.held_amount == 0 and escrow.refunded_amount == Decimal("300.00")
    after = client.get(page_of(case["id"])).content.decode()
    assert 'id="form-resolution"' not in after and "Two of six pallets were damaged in transit." in after
    timeline = after.split('id="dispute-timeline"')[1].split('id="dispute-resolutions"')[0]
    assert "entry-resolution_decided" in timeline
    assert "entry-escrow_released" in timeline and "entry-escrow_refunded" in timeline


def test_a_resolution_that_does_not_add_up_to_what_is_held_is_shown_on_the_form_and_changes_nothing(
    staff, case, funded_escrow
):
    typed = {
        "kind": "decision",
        "outcome": "split",
        "release_amount": "900.00",
        "refund_amount": "300.00",
        "reason": "Generous.",
    }

    refused = logged_in(staff).post(act_url(case["id"], "resolution"), typed)

    assert refused.status_code == 200
    form = refused.content.decode().split('id="form-resolution"')[1].split("</form>")[0]
    assert "errornote" in form and "more than the escrow holds" in form
    assert 'value="900.00"' in form  # as typed
    assert case_now(case["id"]).status == "under_review"
    with system_scope(reason="test: count resolutions"):
        assert not DisputeResolution.objects.filter(dispute_id=case["id"]).exists()
    assert escrow_now(funded_escrow.id).held_amount == Decimal("1000.00")


def test_a_move_the_table_refuses_is_shown_on_the_form(staff, case):
    refused = logged_in(staff).post(act_url(case["id"], "status"), {"status": "closed", "reason": ""})

    assert refused.status_code == 200
    assert "errornote" in refused.content.decode().split('id="form-status"')[1].split("</form>")[0]
    assert case_now(case["id"]).status == "under_review"


def test_the_list_runs_the_same_queries_for_few_or_many_cases(
    staff, api, client_party, supplier_party, django_assert_num_queries
):
    def open_cases(count: int) -> None:
        for _ in range(count):
            open_case(api, client_party, order_between(client_party, supplier_party))

    client = logged_in(staff)
    open_cases(2)
    client.get(CASES)  # warm what is cached per process

    # user, session device, savepoint, all-tenants scope, its audit row, the mediator filter's
    # choices, count, page, release, scope restored
    with django_assert_num_queries(10) as few:
        assert client.get(CASES).status_code == 200
    with_two = len(few.captured_queries)
    open_cases(3)
    with django_assert_num_queries(with_two):
        assert client.get(CASES).status_code == 200


def test_seed_demo_opens_a_case_with_evidence_from_both_sides_once(capsys):
    from django.core.management import call_command

    call_command("seed_demo")
    call_command("seed_demo")

    with system_scope(reason="test: the demo rows", audit=False):
        cases = list(Dispute.objects.all())
        evidence = sorted(
            (row.added_by_side, row.content_type, row.preview_status)
            for row in DisputeEvidence.objects.filter(dispute__in=cases)
        )
    assert len(cases) == 1 and cases[0].reason_category == "damaged"
    assert evidence == [("client", "image/jpeg", "pending"), ("supplier", "application/pdf", "pending")]
    output = capsys.readouterr().out
    assert f"disputes: {cases[0].number}" in output and "the demo case is there already" in output


def test_the_mediation_page_runs_the_same_queries_for_little_or_much_evidence(
    staff, api, case, client_party, supplier_party, django_assert_num_queries
):
    client = logged_in(staff)
    client.get(page_of(case["id"]))  # warm what is cached per process

    with CaptureQueriesContext(connection) as few:
        assert client.get(page_of(case["id"])).status_code == 200
    with_three = len(few.captured_queries)
    for party in (client_party, supplier_party, client_party):
        draw_preview(add_evidence(api, party, case["id"], statement="More.", file=photo())["id"])
    with django_assert_num_queries(with_three):
        assert client.get(page_of(case["id"])).status_code == 200


def test_a_decision_submitted_twice_moves_the_money_once(staff, case, funded_escrow):
    client = logged_in(staff)
    decision = {
        "kind": "decision",
        "outcome": "refund",
        "release_amount": "0.00",
        "refund_amount": "1000.00",
        "reason": "Nothing arrived usable.",
    }

    first = client.post(act_url(case["id"], "resolution"), decision)
    second = client.post(act_url(case["id"], "resolution"), decision)

    assert first.status_code == 302
    assert second.status_code == 200 and "errornote" in second.content.decode()
    assert escrow_now(funded_escrow.id).refunded_amount == Decimal("1000.00")
    with system_scope(reason="test: count decisions"):
        assert DisputeResolution.objects.filter(dispute_id=case["id"], kind="decision").count() == 1


def test_staff_evidence_goes_below_and_a_links_summary_is_kept_as_it_was():
    dispute = Dispute(number="DSP-2026-000009")
    link = DisputeEvidence(
        dispute=dispute,
        kind="link",
        added_by_side="staff",
        linked_type="tracking_event",
        linked_summary={"event_type": "delivered", "city": "Kazan"},
    )
    answer = DisputeEvidence(dispute=dispute, kind="statement", added_by_side="supplier", statement="Delivered.")

    columns = evidence_cards(dispute, [link, answer])

    assert [card.evidence for card in columns["staff"]] == [link]
    assert [card.evidence for card in columns["supplier"]] == [answer] and columns["client"] == []
    assert columns["staff"][0].linked == [("event type", "delivered"), ("city", "Kazan")]
    assert columns["staff"][0].file_url is None and columns["staff"][0].preview_url is None


def test_staff_add_a_statement_of_their_own_which_is_not_the_awaited_answer(staff, case):
    added = logged_in(staff).post(act_url(case["id"], "statement"), {"statement": "Called the consignee: confirmed."})

    page = logged_in(staff).get(reverse("admin:disputes_dispute_change", args=[case["id"]])).content.decode()
    staff_column = page.split('id="evidence-staff"')[1].split('id="dispute-timeline"')[0]
    assert added.status_code == 302
    assert "Called the consignee: confirmed." in staff_column
    with system_scope(reason="test: the case", audit=False):
        dispute = Dispute.objects.get(pk=case["id"])
        assert DisputeEvidence.objects.get(dispute=dispute, added_by_side="staff").statement.startswith("Called")
    assert dispute.status == "under_review"
