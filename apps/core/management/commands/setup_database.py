"""Create the database (if missing) and the application role, with the owner's connection."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.core.provisioning import ensure_application_role, ensure_database


class Command(BaseCommand):
    help = "Create the database and the non-superuser, non-BYPASSRLS application role (idempotent)."

    def handle(self, *args, **options):
        owner = settings.DATABASES.get("owner")
        if owner is None:
            raise CommandError("DATABASE_URL (the owner's connection) is needed to set the database up.")
        ensure_database(owner, owner["NAME"])
        ensure_application_role(owner, owner["NAME"])
        self.stdout.write(f"Database {owner['NAME']} ready; application role {settings.APP_DB_USER}.")
