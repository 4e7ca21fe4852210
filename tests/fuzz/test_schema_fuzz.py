"""Schemathesis over the whole API, once per role (DESIGN.md §1, §9): `make fuzz`.

For every role of DESIGN.md §4 a member of one organization (every feature on) signs in,
and for every operation of /api/schema/ valid (positive) and invalid (negative) requests
are generated and sent to a real uvicorn process of the project. Each answer must pass:

- not_a_server_error: bad input is a 4xx, never a 5xx;
- status_code_conformance, content_type_conformance, response_headers_conformance,
  response_schema_conformance: the answer is one the schema documents, body included;
- negative_data_rejection: a request outside the schema (a wrong type, a value outside an
  enum or a pattern, a missing required field, ...) is refused with a 4xx;
- error_envelope: every error is the envelope of DESIGN.md §5 with a known code and the
  request's X-Request-ID.

Not run: positive_data_acceptance (a schema-valid request is never a 400). Many 400s come
from rules that JSON Schema cannot state: one field against another (a minimum weight below
a maximum, an amount within its currency's minor units), a password policy, a token that
must exist, a NUL in text. Those rules have their own tests; the malformed requests the
schema could have excluded were fixed at their root (tests/core/test_schema_agreement.py).

The budget is fixed (FUZZ_EXAMPLES examples per operation and mode, derandomized, no
shrinking), so a run takes the same time and finds the same things every time; a failure
names the operation, the check and the request (as curl).
"""

from __future__ import annotations

import base64
import os
from datetime import datetime
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests
import schemathesis
from django.conf import settings as django_settings
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from apps.accounts.services import session_start
from apps.core.actors import Actor
from apps.core.context import tenant_scope
from apps.core.errors import ErrorCode
from apps.disputes import services as dispute_services
from apps.notifications import services as notification_services
from apps.tenancy.features import FEATURES
from apps.tenancy.roles import Role
from config.celery import app as celery_app
from sandboxes.sms_gateway import start_server as start_sms_sandbox
from tests.escrow.parties import make_party, order_between
from tests.factories import FeatureFactory, MembershipFactory, OrganizationFactory, UserFactory, member
from tests.marketplace.factories import OfferingFactory, RfqFactory, VerificationFactory
from tests.support import web_process

pytestmark = [pytest.mark.fuzz]

EXAMPLES_PER_OPERATION_AND_MODE = int(os.environ.get("FUZZ_EXAMPLES", "4"))

# Operations the signed-in run leaves out, and why. Each would end or change the one
# session the run signs in with, so every later request would fail for that reason
# instead of exercising the operation it targets.
EXCLUDED = {
    "POST /api/v1/auth/logout": "revokes the run's own session",
    "DELETE /api/v1/auth/sessions/{session_id}": "revokes a session (the generated id never names ours, but a "
    "session id is all it takes; the behaviour has its own tests in tests/accounts/test_sessions.py)",
    "POST /api/v1/auth/change-password": "a change revokes the user's other sessions and needs the current password",
    "POST /api/v1/auth/disable-2fa": "turns two-factor off for the run's user (needs a valid code anyway)",
}

FUZZ_SMS_KEY = "fuzz-sms-key"
FUZZ_SMS_SECRET = "fuzz-sms-secret"
# A fixed P-256 scalar (base64url, 32 bytes): the run's VAPID key, used for nothing else.
FUZZ_VAPID_KEY = base64.urlsafe_b64encode((424242).to_bytes(32, "big")).rstrip(b"=").decode()

ENVELOPE_KEYS = {"error_code", "message", "details", "timestamp", "request_id"}
KNOWN_ERROR_CODES = {code.value for code in ErrorCode}


@schemathesis.check
def error_envelope(ctx, response, case):
    """Every 4xx/5xx answer of the API is the error envelope of DESIGN.md §5."""
    if response.status_code < 400:
        return True
    content_type = response.headers.get("content-type", [""])[0]
    assert content_type.startswith("application/json"), f"error answered as {content_type!r}, not JSON"
    body = response.json()
    assert isinstance(body, dict), f"error body is not an object: {body!r}"
    assert set(body) == ENVELOPE_KEYS, f"error body keys are {sorted(body)}, not {sorted(ENVELOPE_KEYS)}"
    assert body["error_code"] in KNOWN_ERROR_CODES, f"unknown error_code {body['error_code']!r}"
    assert isinstance(body["message"], str) and body["message"], "the message is empty"
    assert isinstance(body["details"], dict | list), f"details is {type(body['details']).__name__}"
    datetime.fromisoformat(body["timestamp"])
    assert body["request_id"] == response.headers.get("x-request-id", [None])[0], "request_id is not X-Request-ID"
    assert "Traceback" not in response.text, "a stack trace in the answer"
    return True


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
    error_envelope,
]


@pytest.fixture(scope="session")
def sms_gateway():
    """The SMS sandbox the server's phone verification sends its codes to (never a real phone)."""
    server = start_sms_sandbox(api_key=FUZZ_SMS_KEY, secret=FUZZ_SMS_SECRET)
    yield server.url
    server.stop()


@pytest.fixture
def server(committed, django_db_setup, tmp_path, sms_gateway):
    """A real web process reading this test's committed rows, with web push and SMS configured
    (a VAPID key; the SMS sandbox), as a deployment has them."""
    database_url = urlunsplit(urlsplit(django_settings.APP_DATABASE_URL)._replace(path=f"/{django_db_setup}"))
    notifications = {
        "WEB_PUSH_VAPID_PRIVATE_KEY": FUZZ_VAPID_KEY,
        "SMS_SANDBOX_URL": sms_gateway,
        "SMS_SANDBOX_API_KEY": FUZZ_SMS_KEY,
        "SMS_SANDBOX_SECRET": FUZZ_SMS_SECRET,
    }
    try:
        with web_process(
            APP_DATABASE_URL=database_url, DB_POOL="false", MEDIA_ROOT=str(tmp_path), **notifications
        ) as base:
            yield base
    finally:
        # Sign-ups and resets the run made queued mails in this worker's broker: a later
        # test's Celery worker must not receive them.
        celery_app.control.purge()


def _organization_with_everything_on():
    """A KYC-verified organization with every feature on, so that operations get past those
    gates; and another organization's public RFQ and offering, so that lists and details
    answer rows the member does not own (their answers are checked too)."""
    organization = OrganizationFactory()
    VerificationFactory(organization=organization)
    for name in FEATURES:
        FeatureFactory(organization=organization, name=name)
    other = OrganizationFactory()
    RfqFactory(organization=other, service_type="")
    OfferingFactory(organization=other)
    RfqFactory(organization=organization, status="draft", published_at=None)
    return organization


def _fixed_path_parameters(operation, known: dict) -> dict:
    """Path parameters that name rows the user can reach, so the run gets past 404s;
    the member is a colleague, never the signed-in user (a role change would lock it out)."""
    names = {parameter.name for parameter in operation.path_parameters}
    return {name: value for name, value in known.items() if name in names}


def _run(base: str, token: str, known: dict, *, only: str = "") -> tuple[int, list[str]]:
    """Every operation (or those whose path starts with `only`), positive and negative."""
    schema = schemathesis.openapi.from_url(f"{base}/api/schema/")
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    failures: list[str] = []
    tested = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.label in EXCLUDED or not operation.path.startswith(only):
            continue
        path_parameters = _fixed_path_parameters(operation, known)
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @settings(
                max_examples=EXAMPLES_PER_OPERATION_AND_MODE,
                derandomize=True,
                deadline=None,
                database=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
                report_multiple_bugs=False,
            )
            @given(case=operation.as_strategy(generation_mode=mode, path_parameters=path_parameters or None))
            def call(case):
                case.call_and_validate(base_url=base, session=session, checks=CHECKS)

            try:
                call()
            except Unsatisfiable:
                # Nothing to negate: e.g. GET /kyc/files/{token} takes one free-form string.
                continue
            except (Exception, BaseExceptionGroup) as error:
                failures.append(f"--- {operation.label} ({mode.value}) ---\n{error}")
            tested += 1
    return tested, failures


@pytest.mark.parametrize("role", [role.value for role in Role])
def test_every_operation_answers_as_its_schema_says(server, role):
    organization = _organization_with_everything_on()
    user = member(organization, role=role)
    colleague = MembershipFactory(organization=organization, role=Role.SHIPPER)
    known = {"organization_id": str(organization.id), "member_id": str(colleague.id)}
    tested, failures = _run(server, session_start(user=user).access, known)
    assert tested > 30, f"only {tested} operation/mode pairs ran: is the schema served?"
    assert not failures, f"{role}: {len(failures)} of {tested} operation/mode pairs failed:\n\n" + "\n\n".join(failures)


def test_the_mediators_dispute_operations_answer_as_their_schema_says(server):
    """Platform staff (no organization of their own) use the disputes endpoints as mediators,
    in the all-tenants scope: the same checks, on a case that exists."""
    client, supplier = make_party("Fuzz Shippers", Role.SHIPPER), make_party("Fuzz Carriers", Role.CARRIER)
    order = order_between(client, supplier)
    with tenant_scope(client.org.id, user_id=client.staff.id):
        dispute = dispute_services.dispute_open(
            actor=client.actor(),
            data=dispute_services.DisputeInput(
                order_id=order.id, reason_category="late", description="Late.", outcome_requested="other"
            ),
        )
    mediator = UserFactory(is_staff=True)
    known = {"dispute_id": str(dispute.id)}
    tested, failures = _run(server, session_start(user=mediator).access, known, only="/api/v1/disputes")
    assert tested >= 10, f"only {tested} operation/mode pairs ran"
    assert not failures, f"mediator: {len(failures)} of {tested} operation/mode pairs failed:\n\n" + "\n\n".join(
        failures
    )


def test_staffs_notification_operations_answer_as_their_schema_says(server):
    """Platform staff send notifications and edit their templates (every other role only gets
    403 there): the same checks, with a template that exists."""
    staff = UserFactory(is_staff=True)
    template = notification_services.template_create(
        actor=Actor.staff(staff.id),
        type_key="order.status_changed",
        channel="email",
        language="en",
        subject="Order {{ number }}",
        body="Now {{ to_status }}.",
    )
    known = {"template_id": str(template.id)}
    tested, failures = _run(server, session_start(user=staff).access, known, only="/api/v1/notifications")
    assert tested >= 20, f"only {tested} operation/mode pairs ran"
    assert not failures, f"staff: {len(failures)} of {tested} operation/mode pairs failed:\n\n" + "\n\n".join(failures)
