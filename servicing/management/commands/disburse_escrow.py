"""Pay the escrow installments due on or before a day; what the daily task runs."""
from django.core.management.base import BaseCommand

from ledger.domain.money import dollars
from servicing.management.commands._common import acting_user, past_date, business_today
from servicing.services.escrow import escrow_disburse_due


class Command(BaseCommand):
    help = "Pay every escrow installment due on or before a day (default today) not paid before; safe to rerun."

    def add_arguments(self, parser):
        parser.add_argument("--as-of", type=past_date, help="YYYY-MM-DD (default: today)")
        parser.add_argument("--user", help="username recorded as the acting user")

    def handle(self, *args, **options):
        result = escrow_disburse_due(as_of=options["as_of"] or business_today(),
                                     acting_user=acting_user(options["user"]))
        self.stdout.write(f"paid {result.disbursed} escrow installment(s) of {dollars(result.amount_cents)} on "
                          f"{len(result.loans)} loan(s), {dollars(result.advanced_cents)} advanced by the servicer")
