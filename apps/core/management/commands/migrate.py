"""`migrate` runs as the owner: the application role cannot create or alter tables."""

from django.conf import settings
from django.core.management.commands.migrate import Command as DjangoMigrate


class Command(DjangoMigrate):
    def add_arguments(self, parser):
        super().add_arguments(parser)
        default = "owner" if "owner" in settings.DATABASES else "default"
        parser.set_defaults(database=default)
