"""Property-based tests generated from our own OpenAPI schema (schemathesis), run against a
real uvicorn process of the project, signed in as the org admin of a fresh organization.

For every operation, valid (positive) and invalid (negative) requests are generated from
/api/schema/ and each answer must:
- not be a server error (DESIGN.md §5: bad input is a 4xx, never a 500);
- have a status code, content type and body the schema documents;
- when it is an error, be the error envelope {"error_code", "message", "details",
  "timestamp", "request_id"} with a known code and the request's X-Request-ID.

Negative cases also leave out or spoil the bearer token, so 401s are exercised too.

Run time is bounded: a fixed number of examples per operation and mode, generated
deterministically (derandomize), without shrinking; a failure names the operation and
the request (as curl) that broke it.
"""

from __future__ import annotations

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
    response_schema_conformance,
    status_code_conformance,
)

from apps.accounts.services import session_start
from apps.core.errors import ErrorCode
from apps.tenancy.roles import Role
from config.celery import app as celery_app
from tests.factories import FeatureFactory, MembershipFactory, OrganizationFactory, member
from tests.support import web_process

EXAMPLES_PER_OPERATION_AND_MODE = 8

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
    response_schema_conformance,
    error_envelope,
]


@pytest.fixture
def signed_in_server(committed, django_db_setup, tmp_path):
    """(base URL, bearer token, organization, another membership) for a real web process
    reading this test's committed rows."""
    organization = OrganizationFactory()
    admin = member(organization, role=Role.ORG_ADMIN)
    colleague = MembershipFactory(organization=organization, role=Role.SHIPPER)
    FeatureFactory(organization=organization, name="assisted_purchase")
    token = session_start(user=admin).access
    database_url = urlunsplit(urlsplit(django_settings.APP_DATABASE_URL)._replace(path=f"/{django_db_setup}"))
    try:
        with web_process(APP_DATABASE_URL=database_url, DB_POOL="false", MEDIA_ROOT=str(tmp_path)) as base:
            yield base, token, organization, colleague
    finally:
        # Sign-ups and resets the run made queued mails in this worker's broker: a later
        # test's Celery worker must not receive them.
        celery_app.control.purge()


def _fixed_path_parameters(operation, organization, colleague) -> dict:
    """Path parameters that name rows the user can reach, so the run gets past 404s;
    the member is a colleague, never the signed-in admin (a role change would lock it out)."""
    known = {"organization_id": str(organization.id), "member_id": str(colleague.id)}
    names = {parameter.name for parameter in operation.path_parameters}
    return {name: value for name, value in known.items() if name in names}


def test_every_operation_answers_as_its_schema_says(signed_in_server):
    base, token, organization, colleague = signed_in_server
    schema = schemathesis.openapi.from_url(f"{base}/api/schema/")
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    failures: list[str] = []
    tested = 0

    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.label in EXCLUDED:
            continue
        path_parameters = _fixed_path_parameters(operation, organization, colleague)
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

    assert tested > 30, f"only {tested} operation/mode pairs ran: is the schema served?"
    assert not failures, f"{len(failures)} of {tested} operation/mode pairs failed:\n\n" + "\n\n".join(failures)
