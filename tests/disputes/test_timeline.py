"""A dispute's timeline through the API: every kind of thing that happens to a case in one list,
oldest first (moves, evidence, the case's chat with moderation, deadlines, resolutions and the
parties' answers, the escrow's money), the same queries whatever its length, and the case's own
404 for anyone else."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.chat import services as chat_services
from apps.core.actors import Actor
from apps.core.context import system_scope
from apps.disputes.models import Dispute, DisputeResolution
from apps.disputes.tasks import disputes_deadlines
from apps.escrow import services as escrow_services
from apps.tenancy.roles import Role
from tests.beat import run_beat_job
from tests.disputes.platform_records import (
    add_evidence,
    generated_document,
    link,
    open_case,
    say,
    thread_about,
)
from tests.factories import member

pytestmark = pytest.mark.django_db


def timeline(api, party, case) -> list[dict]:
    response = api(party.staff).get(f"/api/v1/disputes/{case['id']}/timeline")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["meta"]["total"] == len(body["data"])
    return body["data"]


def types(entries) -> list[str]:
    return [entry["type"] for entry in entries]


def of_type(entries, kind: str) -> list[dict]:
    return [entry for entry in entries if entry["type"] == kind]


@pytest.fixture
def mediator(django_user_model):
    return django_user_model.objects.create_user(email="mediator@manifest.test", password="x" * 16, is_staff=True)


def settle(mediator, escrow_id, *, release: str, refund: str) -> None:
    """What the mediator's decision does to the money (the escrow's own service, as the disputes
    resolution calls it)."""
    with system_scope(reason="test: a mediator settles the escrow", actor_id=mediator.id):
        escrow_services.escrow_resolve_dispute(
            actor=Actor.staff(mediator.id),
            escrow_id=escrow_id,
            release_amount=Decimal(release),
            refund_amount=Decimal(refund),
            note="Split after mediation",
        )


def record_resolution(case, mediator, *, kind="proposal", answers=()) -> None:
    """A resolution row with the parties' answers, as the mediation service (not on this
    branch) writes it."""
    with system_scope(reason="test: a mediator's resolution"):
        dispute = Dispute.objects.get(pk=case["id"])
        resolution = DisputeResolution.objects.create(
            dispute=dispute,
            client_organization_id=dispute.client_organization_id,
            supplier_organization_id=dispute.supplier_organization_id,
            kind=kind,
            outcome="split",
            release_amount=Decimal("700.00"),
            refund_amount=Decimal("300.00"),
            currency=dispute.currency,
            reason="One pallet of three was crushed.",
            decided_by=mediator,
        )
        for side, answer in answers:
            setattr(resolution, f"{side}_answer", answer)
            setattr(resolution, f"{side}_answered_at", timezone.now())
        resolution.save()


def test_the_timeline_tells_the_case_oldest_first(api, client_party, supplier_party, order, funded_escrow):
    case = open_case(api, client_party, order)
    add_evidence(api, client_party, case, statement="Photos of the crushed pallets follow.")
    thread = thread_about(api, client_party, "dispute", case["id"])
    say(api, supplier_party, thread, "We loaded them intact.")
    document = generated_document(supplier_party, order, "cmr")
    link(api, supplier_party, case, "document", document.id, statement="The CMR has no reservation.")
    api(client_party.staff).put(
        f"/api/v1/disputes/{case['id']}/status", {"status": "withdrawn", "reason": "Settled"}, format="json"
    )

    entries = timeline(api, client_party, case)

    assert types(entries) == [
        "dispute_opened",
        "response_due_set",
        "escrow_frozen",
        "evidence_added",
        "message_posted",
        "evidence_added",
        "status_changed",
        "status_changed",
        "escrow_unfrozen",
    ]
    assert [entry["at"] for entry in entries] == sorted(entry["at"] for entry in entries)
    assert [entry["actor_side"] for entry in entries] == [
        "client",
        "system",
        "client",
        "client",
        "supplier",
        "supplier",
        "supplier",
        "client",
        "client",
    ]
    opened, due, frozen, statement, message, linked, answered, withdrawn, unfrozen = entries
    assert opened["summary"] == f"Baltic Shippers (client) opened dispute {case['number']} about order " + (
        f"{case['order_number']}: damaged."
    )
    assert due["data"] == {"side": "supplier", "due_at": None}
    assert statement["data"]["kind"] == "statement" and "crushed pallets" in statement["summary"]
    assert message["data"]["state"] == "shown" and message["data"]["body"] == "We loaded them intact."
    assert linked["data"]["linked_type"] == "document" and linked["data"]["linked_summary"]["document_type"] == "cmr"
    assert answered["data"]["to_status"] == "under_review" and answered["data"]["reason"] == "answered"
    assert withdrawn["data"]["to_status"] == "withdrawn" and withdrawn["summary"].endswith(": Settled")
    assert frozen["summary"].startswith("The escrow was frozen")
    assert unfrozen["data"]["to_status"] == "funded"
    # The other party reads the same story.
    assert types(timeline(api, supplier_party, case)) == types(entries)


def test_a_running_deadline_shows_by_when_and_that_it_passed(api, client_party, order):
    case = open_case(api, client_party, order)

    entries = timeline(api, client_party, case)
    with system_scope(reason="test: the deadline passes"):
        Dispute.objects.filter(pk=case["id"]).update(response_due_at=timezone.now() - timedelta(minutes=1))
    passed = timeline(api, client_party, case)

    [due] = of_type(entries, "response_due_set")
    assert due["data"]["side"] == "supplier" and due["data"]["due_at"] == case["response_due_at"].replace("Z", "+00:00")
    assert "Volga Carriers (supplier) is to answer by" in due["summary"]
    assert of_type(entries, "response_overdue") == []
    [overdue] = of_type(passed, "response_overdue")
    assert overdue["data"]["escalated"] is False and overdue["actor_side"] == "system"


def test_reminders_and_the_escalation_of_an_unanswered_case_are_on_the_timeline(api, client_party, order):
    case = open_case(api, client_party, order)
    with system_scope(reason="test: the deadline nears"):
        Dispute.objects.filter(pk=case["id"]).update(response_due_at=timezone.now() + timedelta(hours=3))
    run_beat_job(disputes_deadlines)
    with system_scope(reason="test: the deadline passes"):
        Dispute.objects.filter(pk=case["id"]).update(response_due_at=timezone.now() - timedelta(minutes=1))
    run_beat_job(disputes_deadlines)

    entries = timeline(api, client_party, case)

    assert types(entries)[-3:] == ["response_reminded", "response_overdue", "status_changed"]
    [reminded] = of_type(entries, "response_reminded")
    [overdue] = of_type(entries, "response_overdue")
    escalation = of_type(entries, "status_changed")[-1]
    assert reminded["data"] == {"side": "supplier"} and reminded["actor_side"] == "system"
    assert overdue["data"]["escalated"] is True and overdue["data"]["side"] == "supplier"
    assert escalation["actor_side"] == "system" and escalation["data"]["to_status"] == "in_mediation"


def test_moderated_messages_keep_their_place_but_not_their_text(
    api, client_party, supplier_party, order, django_user_model
):
    case = open_case(api, client_party, order)
    thread = thread_about(api, client_party, "dispute", case["id"])
    kept = say(api, client_party, thread, "Please send the loading photos.")
    rude = say(api, supplier_party, thread, "Rude words here.")
    regretted = say(api, client_party, thread, "I take that back.")
    moderator = django_user_model.objects.create_user(email="mod@manifest.test", password="x" * 16, is_staff=True)
    with system_scope(reason="test: staff hide a message", actor_id=moderator.id):
        chat_services.message_hide(actor=Actor.staff(moderator.id), message_id=rude["id"], reason="Insults")
    assert api(client_party.staff).delete(f"/api/v1/chat/messages/{regretted['id']}").status_code in (200, 204)

    messages = of_type(timeline(api, supplier_party, case), "message_posted")

    assert [(m["data"]["message_id"], m["data"]["state"]) for m in messages] == [
        (kept["id"], "shown"),
        (rude["id"], "hidden"),
        (regretted["id"], "deleted"),
    ]
    assert [m["data"]["body"] for m in messages] == ["Please send the loading photos.", None, None]
    assert "Rude" not in messages[1]["summary"] and "hidden by moderation" in messages[1]["summary"]
    assert "take that back" not in messages[2]["summary"] and "deleted" in messages[2]["summary"]
    assert [m["actor_side"] for m in messages] == ["client", "supplier", "client"]


def test_resolutions_answers_and_the_money_they_moved(
    api, client_party, supplier_party, order, funded_escrow, mediator
):
    case = open_case(api, client_party, order)
    record_resolution(case, mediator, answers=[("client", "accepted"), ("supplier", "rejected")])
    settle(mediator, funded_escrow.id, release="700.00", refund="300.00")

    entries = timeline(api, client_party, case)

    [proposed] = of_type(entries, "resolution_proposed")
    answers = of_type(entries, "resolution_answered")
    assert proposed["actor_side"] == "staff" and proposed["data"]["outcome"] == "split"
    assert proposed["data"]["release_amount"] == "700.000" and proposed["data"]["refund_amount"] == "300.000"
    assert sorted((a["actor_side"], a["data"]["answer"]) for a in answers) == [
        ("client", "accepted"),
        ("supplier", "rejected"),
    ]
    assert types(entries)[-3:] == ["escrow_released", "escrow_refunded", "escrow_unfrozen"]
    released, refunded, unfrozen = entries[-3:]
    assert Decimal(released["data"]["amount"]) == Decimal("700") and Decimal(released["data"]["commission"]) > 0
    assert "released to Volga Carriers" in released["summary"]
    assert Decimal(refunded["data"]["amount"]) == Decimal("300") and refunded["data"]["currency"] == "EUR"
    assert refunded["data"]["payment_status"] == "pending"
    assert {released["actor_side"], refunded["actor_side"], unfrozen["actor_side"]} == {"staff"}
    assert unfrozen["data"]["to_status"] == "released"


def test_money_moves_of_an_earlier_case_about_the_order_stay_out(
    api, client_party, supplier_party, order, funded_escrow
):
    first = open_case(api, client_party, order)
    api(client_party.staff).put(f"/api/v1/disputes/{first['id']}/status", {"status": "withdrawn"}, format="json")

    second = open_case(api, supplier_party, order, amount_claimed="100.00")

    money = [entry["type"] for entry in timeline(api, client_party, second) if entry["type"].startswith("escrow_")]
    assert money == ["escrow_frozen"]


def test_a_third_organization_gets_the_cases_404(api, client_party, outsider, order):
    case = open_case(api, client_party, order)

    theirs = api(outsider.staff).get(f"/api/v1/disputes/{case['id']}/timeline")
    missing = api(client_party.staff).get(f"/api/v1/disputes/{uuid.uuid4()}/timeline")

    assert theirs.status_code == missing.status_code == 404
    assert theirs.json()["message"] == missing.json()["message"]


def _grow(api, client_party, supplier_party, order, case, thread, mediator, escrow_id, *, times: int) -> None:
    for index in range(times):
        add_evidence(api, client_party, case, statement=f"Statement {index}")
        link(api, client_party, case, "document", generated_document(client_party, order, "packing_list").id)
        say(api, supplier_party, thread, f"Message {index}")
        record_resolution(case, mediator, answers=[("client", "accepted"), ("supplier", "accepted")])


def test_the_timeline_runs_the_same_queries_for_one_entry_of_each_kind_or_many(
    api,
    client_party,
    supplier_party,
    order,
    funded_escrow,
    mediator,
    django_assert_num_queries,
    django_assert_max_num_queries,
):
    case = open_case(api, client_party, order)
    thread = thread_about(api, client_party, "dispute", case["id"])
    _grow(api, client_party, supplier_party, order, case, thread, mediator, funded_escrow.id, times=1)
    client = api(client_party.staff)
    url = f"/api/v1/disputes/{case['id']}/timeline"
    client.get(url)
    with django_assert_max_num_queries(60) as few:
        short = client.get(url).json()["data"]
    queries_for_few = len(few.captured_queries)
    _grow(api, client_party, supplier_party, order, case, thread, mediator, funded_escrow.id, times=4)
    settle(mediator, funded_escrow.id, release="400.00", refund="600.00")

    with django_assert_num_queries(queries_for_few):
        long = client.get(url).json()["data"]

    assert len(long) > 3 * len(short)
    kinds = {"evidence_added", "message_posted", "resolution_proposed", "resolution_answered"}
    assert all(len(of_type(short, kind)) >= 1 for kind in kinds)
    assert all(len(of_type(long, kind)) >= 5 for kind in kinds)
    assert {"escrow_frozen", "escrow_released", "escrow_refunded", "escrow_unfrozen"} <= set(types(long))


def test_a_member_who_may_read_disputes_but_not_chat_sees_the_case_without_its_messages(
    api, client_party, supplier_party, order
):
    case = open_case(api, client_party, order)
    thread = thread_about(api, client_party, "dispute", case["id"])
    say(api, supplier_party, thread, "Hello")
    # A warehouse manager reads no chat; granted the disputes on top of the role.
    reader = member(client_party.org, Role.WAREHOUSE_MANAGER, extra_permissions=["dispute:read"])

    response = api(reader).get(f"/api/v1/disputes/{case['id']}/timeline")

    assert response.status_code == 200, response.json()
    assert of_type(response.json()["data"], "message_posted") == []
    assert of_type(response.json()["data"], "dispute_opened")
    assert of_type(timeline(api, client_party, case), "message_posted")
