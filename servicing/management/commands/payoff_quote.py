"""Print a loan's payoff quote for a day, itemized in dollars."""
from decimal import Decimal

from django.core.management.base import BaseCommand, CommandError

from ledger.domain.money import dollars_grouped
from servicing.errors import ServicingError
from servicing.management.commands._common import business_today, iso_date
from servicing.services.payoff import payoff_quote_lines


class Command(BaseCommand):
    help = "Print the amount that pays a loan off on a day: principal, interest, charges, less escrow and suspense."

    def add_arguments(self, parser):
        parser.add_argument("loan", help="loan number")
        parser.add_argument("--as-of", type=iso_date, help="payoff date (default: today)")

    def handle(self, *args, **options):
        as_of = options["as_of"] or business_today()
        try:
            quote, lines = payoff_quote_lines(loan_number=options["loan"], as_of=as_of)
        except ServicingError as refused:
            raise CommandError(str(refused)) from None
        per_diem = (quote.per_diem_interest / 100).quantize(Decimal("0.0001"))
        self.stdout.write(f"Payoff quote for loan {options['loan']} good on {as_of.isoformat()} "
                          f"(per diem interest {per_diem})")
        for label, cents in lines:
            self.stdout.write(f"  {label:<40} {dollars_grouped(cents):>14}")
        self.stdout.write(f"  {'total to pay off':<40} {dollars_grouped(quote.amount_due_cents):>14}")
        if quote.refund_due_cents:
            self.stdout.write(f"  {'owed to the borrower':<40} {dollars_grouped(quote.refund_due_cents):>14}")
