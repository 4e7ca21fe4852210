"""Phone verification through the API with the real SMS sandbox: a six-digit code goes by SMS
and, typed back, confirms the person's phone; wrong codes are counted (five spend the code),
expired codes are refused, the gateway's refusal is a 400 and its absence a 503 (no code left
behind either way), and the codes an hour are capped. Also the gateway's signed delivery
reports: a forged one is refused, a signed one moves the delivery to delivered."""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
import time

import pytest
from django.utils import timezone

from apps.core.context import system_scope, user_scope
from apps.notifications.models import Delivery, PhoneVerification
from sandboxes import sms_gateway
from tests.factories import UserFactory
from tests.notifications.factories import delivery, notification, stored

pytestmark = pytest.mark.django_db

START = "/api/v1/notifications/phone-verification"
CONFIRM = f"{START}/confirm"
REPORTS = "/api/v1/notifications/providers/sms/sandbox/reports"
CODE = re.compile(r"\b([0-9]{6})\b")


def fresh_number() -> str:
    """A German mobile number no other test uses (the sandbox is shared by the session)."""
    return f"+49151{secrets.randbelow(10**8):08d}"


def code_sent_to(sms_sandbox, number: str) -> str:
    [message] = sms_sandbox.messages(to=number)
    found = CODE.search(message["body"])
    assert found, message["body"]
    return found.group(1)


def verifications(user) -> list[PhoneVerification]:
    with user_scope(user.id):
        return list(PhoneVerification.objects.filter(user_id=user.id))


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def test_the_code_sent_by_sms_confirms_the_phone(api, notification_sandboxes):
    person = UserFactory()
    client = api(person)

    started = client.post(START, {"phone": "+4915112345678"}, format="json")

    assert started.status_code == 201, started.json()
    assert started.json()["phone"] == "+4915112345678"
    # The number of the brief may be used by other tests of the session: the newest message is ours.
    message = notification_sandboxes.sms.messages(to="+4915112345678")[-1]
    assert "Your Manifest code is" in message["body"]
    code = CODE.search(message["body"]).group(1)
    [verification] = verifications(person)
    assert message["reference"] == str(verification.id)
    assert code not in verification.code_hash  # only a keyed hash is kept

    confirmed = client.post(CONFIRM, {"code": code}, format="json")

    assert confirmed.status_code == 200, confirmed.json()
    assert confirmed.json() == {"phone": "+4915112345678", "verified": True}
    me = client.get("/api/v1/me").json()
    assert me["phone"] == "+4915112345678"
    assert me["phone_verified_at"] is not None
    # A code confirms once.
    assert client.post(CONFIRM, {"code": code}, format="json").status_code == 400


def test_a_number_is_kept_in_its_international_form(api, notification_sandboxes):
    number = fresh_number()
    spaced = f"{number[:3]} {number[3:6]} {number[6:]}"

    response = api(UserFactory()).post(START, {"phone": spaced}, format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["phone"] == number
    assert len(notification_sandboxes.sms.messages(to=number)) == 1


def test_the_code_comes_in_the_persons_language(api, notification_sandboxes):
    person = UserFactory(language="ru")
    number = fresh_number()

    api(person).post(START, {"phone": number}, format="json")

    [message] = notification_sandboxes.sms.messages(to=number)
    assert message["body"].startswith("Ваш код Manifest:")


def test_a_wrong_code_is_refused_and_counted_and_five_spend_the_code(api, notification_sandboxes):
    person = UserFactory()
    client = api(person)
    number = fresh_number()
    client.post(START, {"phone": number}, format="json")
    code = code_sent_to(notification_sandboxes.sms, number)

    first_wrong = client.post(CONFIRM, {"code": wrong(code)}, format="json")

    assert first_wrong.status_code == 400
    assert first_wrong.json()["error_code"] == "VALIDATION_FIELD_INVALID"
    assert "4 tries left" in first_wrong.json()["details"]["code"][0]
    assert verifications(person)[0].attempts == 1
    for _ in range(4):
        assert client.post(CONFIRM, {"code": wrong(code)}, format="json").status_code == 400
    assert verifications(person)[0].attempts == 5

    right_too_late = client.post(CONFIRM, {"code": code}, format="json")

    assert right_too_late.status_code == 400
    assert client.get("/api/v1/me").json()["phone_verified_at"] is None


def test_an_expired_code_is_refused(api, notification_sandboxes):
    person = UserFactory()
    client = api(person)
    number = fresh_number()
    client.post(START, {"phone": number}, format="json")
    code = code_sent_to(notification_sandboxes.sms, number)
    with user_scope(person.id):
        PhoneVerification.objects.filter(user_id=person.id).update(expires_at=timezone.now() - dt.timedelta(seconds=1))

    response = client.post(CONFIRM, {"code": code}, format="json")

    assert response.status_code == 400
    assert "code" in response.json()["details"]
    assert client.get("/api/v1/me").json()["phone"] != number


def test_a_code_of_another_person_does_not_confirm_mine(api, notification_sandboxes):
    mine, theirs = UserFactory(), UserFactory()
    my_number, their_number = fresh_number(), fresh_number()
    api(mine).post(START, {"phone": my_number}, format="json")
    api(theirs).post(START, {"phone": their_number}, format="json")
    their_code = code_sent_to(notification_sandboxes.sms, their_number)
    my_code = code_sent_to(notification_sandboxes.sms, my_number)
    if their_code == my_code:
        pytest.skip("the two random codes happen to be equal")

    response = api(mine).post(CONFIRM, {"code": their_code}, format="json")

    assert response.status_code == 400
    assert verifications(theirs)[0].attempts == 0


def test_a_number_the_gateway_refuses_is_a_400_and_leaves_no_code(api, notification_sandboxes):
    person = UserFactory()

    response = api(person).post(START, {"phone": sms_gateway.NUMBER_INVALID}, format="json")

    assert response.status_code == 400
    assert "phone" in response.json()["details"]
    assert verifications(person) == []


def test_a_gateway_that_is_down_is_a_503_and_leaves_no_code(api, notification_sandboxes):
    person = UserFactory()

    response = api(person).post(START, {"phone": sms_gateway.NUMBER_UNAVAILABLE}, format="json")

    assert response.status_code == 503
    assert response.json()["error_code"] == "EXTERNAL_SERVICE_UNAVAILABLE"
    assert verifications(person) == []


@pytest.mark.parametrize("phone", ["call me", "+49", "12345", "+999123456789"])
def test_something_that_is_not_a_phone_number_is_refused_and_nothing_is_sent(api, notification_sandboxes, phone):
    person = UserFactory()
    sent_before = len(notification_sandboxes.sms.messages())

    response = api(person).post(START, {"phone": phone}, format="json")

    assert response.status_code == 400
    assert "phone" in response.json()["details"]
    assert verifications(person) == []
    assert len(notification_sandboxes.sms.messages()) == sent_before


def test_more_codes_an_hour_than_allowed_are_refused(api, notification_sandboxes, settings):
    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "PHONE_CODES_PER_HOUR": 2}
    person = UserFactory()
    client = api(person)
    number = fresh_number()
    for _ in range(2):
        assert client.post(START, {"phone": number}, format="json").status_code == 201

    response = client.post(START, {"phone": number}, format="json")

    assert response.status_code == 429
    assert response.json()["error_code"] == "RATE_LIMIT_EXCEEDED"
    assert int(response.headers["Retry-After"]) > 0
    assert len(verifications(person)) == 2
    assert len(notification_sandboxes.sms.messages(to=number)) == 2


def test_the_latest_code_is_the_one_that_confirms(api, notification_sandboxes):
    person = UserFactory()
    client = api(person)
    first_number, second_number = fresh_number(), fresh_number()
    client.post(START, {"phone": first_number}, format="json")
    client.post(START, {"phone": second_number}, format="json")
    second_code = code_sent_to(notification_sandboxes.sms, second_number)

    response = client.post(CONFIRM, {"code": second_code}, format="json")

    assert response.status_code == 200, response.json()
    assert response.json()["phone"] == second_number


# --- the gateway's delivery reports ---


def signed_report(secret: str, report: dict, *, at: int | None = None) -> tuple[bytes, dict]:
    """A report body and headers as the sandbox gateway sends them (sandboxes/sms_gateway.py)."""
    body = json.dumps(report, separators=(",", ":")).encode()
    signature = sms_gateway.sign(secret, body, int(time.time()) if at is None else at)
    return body, {"HTTP_SANDBOX_SIGNATURE": signature}


def sent_sms_delivery(provider_id: str) -> Delivery:
    person = UserFactory()
    return delivery(notification(person), channel="sms", provider_id=provider_id, address=fresh_number())


def delivery_status(row: Delivery) -> Delivery:
    return stored(Delivery, id=row.id)


def test_a_signed_delivered_report_moves_the_sent_delivery_to_delivered(client, notification_sandboxes):
    row = sent_sms_delivery("sms_report_delivered")
    body, headers = signed_report(
        notification_sandboxes.sms.secret,
        {"id": "sms_report_delivered", "reference": str(row.id), "status": "delivered", "error": None},
    )

    response = client.post(REPORTS, body, content_type="application/json", **headers)

    assert response.status_code == 204
    reported = delivery_status(row)
    assert reported.status == "delivered" and reported.delivered_at is not None
    with system_scope(reason="test reads the attempt", audit=False):
        assert [a.status for a in reported.attempt_rows.all()] == ["delivered"]


def test_a_signed_failed_report_fails_the_delivery_with_the_gateways_reason(client, notification_sandboxes):
    row = sent_sms_delivery("sms_report_failed")
    body, headers = signed_report(
        notification_sandboxes.sms.secret,
        {"id": "sms_report_failed", "reference": str(row.id), "status": "failed", "error": sms_gateway.FAILED_ERROR},
    )

    response = client.post(REPORTS, body, content_type="application/json", **headers)

    assert response.status_code == 204
    reported = delivery_status(row)
    assert (reported.status, reported.last_error) == ("failed", sms_gateway.FAILED_ERROR)


@pytest.mark.parametrize(
    "forgery",
    ["wrong secret", "no signature", "body changed after signing", "stale", "malformed"],
)
def test_a_report_not_signed_by_the_gateway_is_a_400_and_changes_nothing(client, notification_sandboxes, forgery):
    row = sent_sms_delivery(f"sms_forged_{forgery.replace(' ', '_')}")
    report = {"id": row.provider_id, "reference": str(row.id), "status": "delivered", "error": None}
    secret = notification_sandboxes.sms.secret
    body, headers = signed_report(secret, report)
    if forgery == "wrong secret":
        body, headers = signed_report("not-the-secret", report)
    elif forgery == "no signature":
        headers = {}
    elif forgery == "body changed after signing":
        body = body.replace(b'"delivered"', b'"failed"')
    elif forgery == "stale":
        body, headers = signed_report(secret, report, at=int(time.time()) - 3600)
    elif forgery == "malformed":
        body, headers = signed_report(secret, {"id": row.provider_id})

    response = client.post(REPORTS, body, content_type="application/json", **headers)

    assert response.status_code == 400
    assert set(response.json()) >= {"error_code", "message", "details", "timestamp", "request_id"}
    assert delivery_status(row).status == "sent"


def test_a_report_to_a_gateway_that_is_not_configured_is_not_found(client, notification_sandboxes):
    body, headers = signed_report(notification_sandboxes.sms.secret, {"id": "x", "reference": "y", "status": "failed"})

    response = client.post(REPORTS.replace("/sandbox/", "/nope/"), body, content_type="application/json", **headers)

    assert response.status_code == 404
