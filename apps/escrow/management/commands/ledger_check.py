"""`manage.py ledger_check`: prove the ledger balances and every escrow's cached amounts equal its postings.

Exits 1 and lists the problems when anything is off; 0 and "ledger balanced" otherwise.
Reads every tenant's rows (an audited all-tenants scope)."""

from django.core.management.base import BaseCommand, CommandError

from apps.core.context import system_scope
from apps.escrow.selectors import ledger_problems


class Command(BaseCommand):
    help = "Check that the ledger balances and escrows' cached amounts equal their postings."

    def handle(self, *args, **options):
        with system_scope(reason="manage.py ledger_check"):
            problems = ledger_problems()
        for problem in problems:
            self.stderr.write(f"{problem.what}: {problem.detail}")
        if problems:
            raise CommandError(f"{len(problems)} ledger problem(s)")
        self.stdout.write("ledger balanced")
