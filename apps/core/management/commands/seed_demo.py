"""Demo data for `make run`: every context's registered seeder (apps.core.demo), idempotent."""

from django.core.management.base import BaseCommand

from apps.core.demo import demo_seeders


class Command(BaseCommand):
    help = "Create the demo organizations and users (safe to run again)."

    def add_arguments(self, parser):
        parser.add_argument("--tokens", action="store_true", help="Also print an access token per demo user.")

    def handle(self, *args, **options):
        seeders = demo_seeders()
        lines = []
        for seeder in seeders:
            lines += seeder.seed()
        self.stdout.write("\n".join(lines))
        if options["tokens"]:
            for seeder in seeders:
                for line in seeder.tokens() if seeder.tokens else ():
                    self.stdout.write(line)
