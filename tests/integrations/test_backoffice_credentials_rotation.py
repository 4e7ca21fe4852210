"""Rotating the key that encrypts shops' credentials (`manage.py integrations_rotate_credentials`,
docs/integrations.md): with the new key first and the old one still listed, every shop is
re-encrypted with the new key, after which the old key can go and the shops still open (and sync);
a shop that opens with none of the listed keys stops the rotation before anything is changed."""

from __future__ import annotations

from io import StringIO

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.core.management import CommandError, call_command

from apps.core.context import system_scope
from apps.integrations.credentials import credentials_open
from apps.integrations.models import PlatformConfiguration
from tests.integrations.api_support import connect, shopify_shop, sync

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("integration_settings")]


def use_keys(settings, *keys: str) -> None:
    settings.INTEGRATIONS = {**settings.INTEGRATIONS, "CREDENTIAL_KEYS": list(keys)}


def stored_tokens() -> dict:
    with system_scope(reason="test reads the sealed credentials", audit=False):
        return dict(PlatformConfiguration.objects.values_list("id", "credentials_encrypted"))


def test_rotation_re_encrypts_with_the_new_key_and_the_old_key_can_then_go(settings, seller, platform_sandbox):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    use_keys(settings, old)
    shops = [shopify_shop(platform_sandbox, count=2) for _ in range(2)]
    configurations = [connect(seller, shop, name=f"Shop {index}") for index, shop in enumerate(shops)]
    before = stored_tokens()

    use_keys(settings, new, old)
    output = StringIO()
    call_command("integrations_rotate_credentials", stdout=output)
    use_keys(settings, new)

    assert output.getvalue().strip() == "2 shop(s) re-encrypted with the first key."
    after = stored_tokens()
    for configuration, shop in zip(configurations, shops, strict=True):
        assert after[configuration.id] != before[configuration.id]
        assert credentials_open(after[configuration.id]) == shop.credentials  # the new key alone opens them
        with pytest.raises(InvalidToken):
            credentials_open(before[configuration.id])  # what the old key sealed no longer opens
    assert sync(configurations[0]).status == "SUCCEEDED"  # the shop still talks to its platform


def test_a_shop_no_listed_key_opens_stops_the_rotation_before_anything_changes(settings, seller, platform_sandbox):
    lost, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    use_keys(settings, lost)
    connect(seller, shopify_shop(platform_sandbox, count=1))
    before = stored_tokens()

    use_keys(settings, new)
    with pytest.raises(CommandError) as refused:
        call_command("integrations_rotate_credentials", stdout=StringIO())

    assert "Nothing was changed" in str(refused.value)
    assert lost not in str(refused.value) and new not in str(refused.value)
    assert stored_tokens() == before
