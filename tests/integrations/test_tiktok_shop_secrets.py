"""A TikTok Shop's credentials never leave in a log record (at DEBUG, whoever logged it), an
exception's message, the sync log or an event, even when the platform fails or echoes them.

The app key and the shop cipher are identifiers that every signed request carries in its URL
(TikTok's design) and that the back-office shows the tail of (apps/integrations/credentials.py):
a DEBUG line of the HTTP client may name them. The secrets (app secret, access and refresh tokens,
every one a refresh made) must appear nowhere; the identifiers nowhere but in such URLs."""

from __future__ import annotations

import logging

import pytest

from apps.core.context import tenant_scope
from apps.core.models import OutboxEvent
from apps.integrations.models import SyncRun, SyncStatus
from apps.integrations.services.configurations import CredentialsRejected
from tests.integrations.tiktok_shop_support import PLATFORM, connect, reload, sync

pytestmark = pytest.mark.usefixtures("committed", "integration_settings")

SECRET_FIELDS = ("app_secret", "access_token", "refresh_token")


class _Shop:
    """The sandbox shop with other credentials: what an admin who mistyped the secret gives."""

    def __init__(self, shop, **credentials):
        self.shop_id = shop.shop_id
        self.credentials = {**shop.credentials, **credentials}


def _texts_of(records: list[logging.LogRecord]) -> list[str]:
    texts = []
    for record in records:
        texts.append(record.getMessage())
        texts.append(repr({name: value for name, value in vars(record).items() if name not in ("msg", "args")}))
        if record.exc_info and record.exc_info[1] is not None:
            texts.append(str(record.exc_info[1]))
    return texts


def test_credentials_never_appear_in_logs_errors_or_the_sync_log(
    platform_sandbox, seller, caplog, integration_settings
):
    caplog.set_level(logging.DEBUG)
    shop = platform_sandbox.add_shop(PLATFORM, generate={"count": 3, "seed": 31})
    seen = [dict(shop.credentials)]
    wrong_secret = "tts-mistyped-" + shop.credentials["app_secret"][::-1]

    with pytest.raises(CredentialsRejected) as refused:
        connect(seller, _Shop(shop, app_secret=wrong_secret))
    configuration = connect(seller, shop)
    seen.append(dict(shop.credentials))  # refreshed on connecting
    # A run that fails on 5xx, one that TikTok refuses while echoing our credentials back, then
    # an expired token refreshed in the middle of a run.
    platform_sandbox.fault(PLATFORM, shop.shop_id, 503, count=integration_settings["REQUEST_ATTEMPTS"])
    unavailable = sync(configuration)
    echoed = " ".join(f"{name}={value}" for name, value in shop.credentials.items())
    platform_sandbox.fault(PLATFORM, shop.shop_id, 401, body={"code": 105001, "message": f"invalid: {echoed}"})
    rejected = sync(configuration)
    platform_sandbox.expire_token(PLATFORM, shop.shop_id)
    refreshed = sync(configuration)
    seen.append(dict(shop.credentials))

    assert (unavailable.status, unavailable.error_code) == (SyncStatus.FAILED, "PLATFORM_UNAVAILABLE")
    assert (rejected.status, rejected.error_code) == (SyncStatus.FAILED, "REJECTED")
    assert "105001" in rejected.error
    assert refreshed.status == SyncStatus.SUCCEEDED
    secrets = {credentials[name] for credentials in seen for name in SECRET_FIELDS} | {wrong_secret}
    identifiers = {shop.credentials["app_key"], shop.credentials["shop_cipher"]}
    assert len(secrets) == 8  # the app secret, three access tokens, three refresh tokens, the mistyped one
    with tenant_scope(seller[0].id):
        sync_log = [f"{run.error_code} {run.error}" for run in SyncRun.objects.all()]
        events = [repr(event.payload) for event in OutboxEvent.objects.filter(event_type="sync.failed")]
    errors = [
        str(refused.value),
        repr(refused.value.details),
        reload(configuration).last_error,
        *sync_log,
        *events,
    ]
    assert len(events) == 2 and len(caplog.records) > 0
    for value in secrets | identifiers:
        assert not [error for error in errors if value in error], "a credential in an error or the sync log"
    for value in secrets:
        assert value not in caplog.text, "a secret in the captured log"
        assert not [text for text in _texts_of(caplog.records) if value in text], "a secret in a log record"
