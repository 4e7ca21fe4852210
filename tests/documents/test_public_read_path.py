"""The public verification page reads through a narrow path: a SECURITY DEFINER function that
returns only the public columns, to a caller without any tenant."""

from __future__ import annotations

import pytest
from django.db import connection

from apps.core.context import Scope, activate
from apps.documents import selectors, services
from apps.documents.models import GeneratedDocument
from tests.documents.conftest import generated_and_rendered, stored

pytestmark = pytest.mark.django_db

FUNCTION = "documents_public_verification"


def _declared_result_columns() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT proargnames, proargmodes, prosecdef, proconfig FROM pg_proc WHERE proname = %s", [FUNCTION]
        )
        ((names, modes, security_definer, config),) = cursor.fetchall()
    assert security_definer
    assert any(setting.startswith("search_path=") for setting in config)
    return [name for name, mode in zip(names, modes, strict=True) if mode == "t"]


def test_the_function_returns_exactly_the_public_columns():
    assert _declared_result_columns() == list(selectors.PUBLIC_VERIFICATION_COLUMNS)
    # none of what the page must never show
    secret = {"client_organization_id", "supplier_organization_id", "customer_id", "file", "verification_url"}
    assert secret.isdisjoint(selectors.PUBLIC_VERIFICATION_COLUMNS)


def test_only_the_application_role_may_execute_it():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT has_function_privilege('public', %s, 'EXECUTE'),"
            " has_function_privilege(current_user, %s, 'EXECUTE')",
            [f"{FUNCTION}(uuid, uuid, text)"] * 2,
        )
        assert cursor.fetchone() == (False, True)


def test_without_a_tenant_the_table_reads_empty_but_the_path_answers(api, parties, order):
    body = generated_and_rendered(api(parties["carrier_admin"]), order, parties["carrier_org"])
    document = stored(body["id"])

    with activate(Scope()):  # the public page's scope: no user, no tenant
        assert GeneratedDocument.objects.count() == 0
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM documents_generateddocument")
            assert cursor.fetchone() == (0,)
        row = selectors.public_verification_row(
            document_id=document.id, organization_id=document.organization_id, token=document.verification_token
        )
        assert list(row) == list(selectors.PUBLIC_VERIFICATION_COLUMNS)
        assert row["order_number"] == order.number and row["sha256"] == document.sha256
        # a token that is not the row's, or another organization: nothing
        assert (
            selectors.public_verification_row(
                document_id=document.id,
                organization_id=document.organization_id,
                token="x" + document.verification_token,
            )
            is None
        )
        assert (
            selectors.public_verification_row(
                document_id=document.id,
                organization_id=parties["shipper_org"].id,
                token=document.verification_token,
            )
            is None
        )
        # and the function left the caller's scope as it found it
        assert GeneratedDocument.objects.count() == 0

    page = services.public_verification(token=document.verification_token)
    assert page["signed"] is False and page["latest_version"] == 1
