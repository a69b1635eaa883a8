"""Post one payment received on a loan (a payoff when it covers the payoff amount)."""
from django.core.management.base import BaseCommand, CommandError

from ledger.domain.money import dollars
from servicing.errors import ServicingError
from servicing.management.commands._common import acting_user, dollars_option, past_date
from servicing.services.payments import payment_post


class Command(BaseCommand):
    help = "Post one payment: split into interest, principal, escrow, charges, curtailment and suspense."

    def add_arguments(self, parser):
        parser.add_argument("--loan", required=True, help="loan number")
        parser.add_argument("--amount", required=True, type=dollars_option("--amount"), help="dollars with cents, e.g. 849.55")
        parser.add_argument("--received-on", required=True, type=past_date, help="date received (YYYY-MM-DD)")
        parser.add_argument("--reference", required=True, help="the bank's reference; posts once")
        parser.add_argument("--principal-only", action="store_true", help="borrower asked: all to principal")
        parser.add_argument("--user", help="username recorded as the acting user")

    def handle(self, *args, **options):
        try:
            result = payment_post(
                loan_number=options["loan"], amount_cents=options["amount"], received_on=options["received_on"],
                reference=options["reference"], principal_only=options["principal_only"],
                acting_user=acting_user(options["user"]),
            )
        except ServicingError as refused:
            raise CommandError(str(refused)) from None
        event = result.event
        if result.already_posted:
            self.stdout.write(f"reference {result.reference} was already posted (position {event.position}); "
                              "nothing recorded")
            return
        parts = ", ".join(f"{name.removesuffix('_cents').replace('_', ' ')} {dollars(value)}"
                          for name, value in result.parts.items() if name.endswith("_cents") and value)
        self.stdout.write(self.style.SUCCESS(
            f"{event.event_type} on loan {result.loan_number} (position {event.position}): {parts}"))
