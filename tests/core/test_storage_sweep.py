"""Stored files that no row references are swept once past the grace period; referenced files
and fresh ones (maybe a transaction still running) stay (issue 13, item 14)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.db import transaction
from django.utils import timezone

from apps.core.actors import Actor
from apps.core.context import tenant_scope
from apps.core.services import storage_orphans_sweep
from apps.core.stored_files import file_fields
from apps.core.tasks import storage_orphans_sweep as sweep_task
from apps.kyc import services as kyc
from tests.factories import OrganizationFactory, member
from tests.kyc.conftest import INN, OGRN, pdf_bytes, upload

pytestmark = pytest.mark.django_db


class LaterStepFailed(Exception):
    pass


@pytest.fixture
def shipper_org():
    organization = OrganizationFactory(tax_id=INN, registration_number=OGRN)
    return organization, member(organization)


@pytest.fixture
def media(settings, tmp_path):
    """A storage of this test's own: the sweep lists everything in it."""
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def stored(media) -> set[str]:
    return {str(path.relative_to(media)) for path in media.rglob("*") if path.is_file()}


def upload_then_roll_back(organization, admin) -> None:
    """The KYC upload service writes its file, then a later step of the same transaction fails."""
    with pytest.raises(LaterStepFailed), transaction.atomic():
        with tenant_scope(organization.id, user_id=admin.id):
            kyc.document_upload(
                organization_id=organization.id,
                actor=Actor(user_id=admin.id, organization_id=organization.id),
                document_type="inn",
                upload=kyc.Upload(name="inn.pdf", data=pdf_bytes(), content_type="application/pdf"),
                number=INN,
            )
        raise LaterStepFailed


def past_the_grace_period():
    return timezone.now() + django_settings.STORAGE_ORPHAN_GRACE + timedelta(minutes=1)


def test_a_file_written_then_rolled_back_is_swept_after_the_grace_period(shipper_org, media):
    organization, admin = shipper_org
    upload_then_roll_back(organization, admin)
    orphans = stored(media)
    assert len(orphans) == 1  # the row is gone, its file is not

    counts = storage_orphans_sweep(now=past_the_grace_period())

    assert stored(media) == set()
    assert counts["deleted"] == 1


def test_a_referenced_file_stays_however_old(api, shipper_org, media):
    organization, admin = shipper_org
    document_id = upload(api(admin)).json()["id"]
    kyc.document_render_preview(organization_id=organization.id, document_id=document_id)
    referenced = stored(media)
    assert referenced == {
        f"kyc/{organization.id}/{document_id}.pdf",
        f"kyc/{organization.id}/{document_id}-preview.png",
    }

    counts = storage_orphans_sweep(now=past_the_grace_period())

    assert stored(media) == referenced
    assert counts == {"listed": 2, "referenced": 2, "young": 0, "deleted": 0}


def test_a_fresh_orphan_stays_it_may_belong_to_a_transaction_still_running(shipper_org, media):
    organization, admin = shipper_org
    upload_then_roll_back(organization, admin)
    orphans = stored(media)

    counts = storage_orphans_sweep()

    assert stored(media) == orphans
    assert counts["young"] == 1


def test_every_stored_file_of_the_project_is_covered():
    covered = {f"{model._meta.label}.{field.name}" for model, field in file_fields()}

    assert {
        "kyc.KycDocument.file",
        "kyc.KycDocument.preview_file",
        "documents.GeneratedDocument.file",
        "documents.GeneratedDocument.signed_file",
        "documents.DocumentTemplate.logo",
        "orders.Order.purchase_invoice",
        "orders.ReturnPhoto.file",
        "accounts.PersonalDataExport.file",
    } <= covered


def test_beat_runs_the_sweep_hourly():
    entry = django_settings.CELERY_BEAT_SCHEDULE["storage-orphans-sweep"]

    assert entry["task"] == sweep_task.name
