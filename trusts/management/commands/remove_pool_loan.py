"""Take a loan out of a trust's pool: repurchased by the seller or bought out by the servicer."""
from django.core.management.base import BaseCommand, CommandError

from ledger.domain.money import dollars_grouped
from servicing.management.commands._common import acting_user, past_date
from trusts.errors import TrustError
from trusts.events import PoolLoanRemoved
from trusts.services.pool import REMOVAL_KINDS, pool_loan_remove


class Command(BaseCommand):
    help = "Remove a loan from a trust's pool at par plus accrued interest, paid into the trust's cash."

    def add_arguments(self, parser):
        parser.add_argument("--trust", required=True, help="trust code")
        parser.add_argument("--loan", required=True, help="loan number")
        parser.add_argument("--on", required=True, type=past_date, help="removal date (YYYY-MM-DD)")
        parser.add_argument("--kind", required=True, choices=REMOVAL_KINDS, help="who buys the loan back")
        parser.add_argument("--reason", required=True, help="why, e.g. the breached representation")
        parser.add_argument("--user", help="username recorded as the acting user")

    def handle(self, *args, **options):
        try:
            event = pool_loan_remove(
                trust_code=options["trust"], loan_number=options["loan"], removed_on=options["on"],
                kind=options["kind"], reason=options["reason"], acting_user=acting_user(options["user"]),
            )
        except TrustError as refused:
            raise CommandError(str(refused)) from None
        removed = PoolLoanRemoved.from_payload(event.payload)
        self.stdout.write(self.style.SUCCESS(
            f"removed loan {removed.loan_number} from {options['trust']} on {event.effective_date.isoformat()} "
            f"({removed.kind}: {removed.reason}; position {event.position})"
        ))
        self.stdout.write(f"  unpaid principal {dollars_grouped(removed.balance_cents):>16}\n"
                          f"  proceeds: principal {dollars_grouped(removed.proceeds_principal_cents):>12}\n"
                          f"            interest {dollars_grouped(removed.proceeds_interest_cents):>13}\n"
                          f"            total {dollars_grouped(removed.proceeds_cents):>16}")
