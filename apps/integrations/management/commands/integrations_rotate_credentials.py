"""`manage.py integrations_rotate_credentials`: re-encrypt every shop's credentials with the first
key of INTEGRATIONS_CREDENTIAL_KEYS (docs/integrations.md, "Credentials at rest").

Put the new key first and keep the old one listed, run this, then drop the old key. All or
nothing: when a shop's credentials open with none of the listed keys, nothing is re-encrypted and
the command fails (the message names no shop's secret, nor any key)."""

from cryptography.fernet import InvalidToken
from django.core.management.base import BaseCommand, CommandError

from apps.integrations import services


class Command(BaseCommand):
    help = (
        "Re-encrypt every shop's platform credentials with the first of INTEGRATIONS_CREDENTIAL_KEYS "
        "(new key first, old key still listed; drop the old key afterwards)."
    )

    def handle(self, *args, **options):
        try:
            rotated = services.credentials_rotate_all()
        except InvalidToken:
            raise CommandError(
                "Some shop's credentials open with none of INTEGRATIONS_CREDENTIAL_KEYS: list the key they were "
                "encrypted with (after the new one) and run this again. Nothing was changed."
            ) from None
        self.stdout.write(f"{rotated} shop(s) re-encrypted with the first key.")
