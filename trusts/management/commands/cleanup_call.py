"""Exercise a trust's clean-up call: every loan left in its pool bought at par plus accrued interest."""
from django.core.management.base import BaseCommand, CommandError

from ledger.domain.money import dollars_grouped
from servicing.management.commands._common import acting_user, past_date
from trusts.errors import TrustError
from trusts.events import CleanUpCallExercised
from trusts.services.cleanup_call import exercise_cleanup_call


class Command(BaseCommand):
    help = ("Exercise a trust's clean-up call on a date: its pool below the deal's call percent of the cut-off "
            "balance, every loan left is bought at par plus accrued interest; the period's close retires the classes.")

    def add_arguments(self, parser):
        parser.add_argument("trust", help="trust code")
        parser.add_argument("--date", required=True, type=past_date, help="call date (YYYY-MM-DD)")
        parser.add_argument("--user", help="username recorded as the acting user")

    def handle(self, *args, **options):
        user = acting_user(options["user"])
        try:
            event = exercise_cleanup_call(trust_code=options["trust"], call_date=options["date"], acting_user=user)
        except TrustError as refused:
            raise CommandError(str(refused)) from None
        called = CleanUpCallExercised.from_payload(event.payload)
        self.stdout.write(self.style.SUCCESS(
            f"exercised the clean-up call of {called.trust} on {called.call_date.isoformat()}: "
            f"{len(called.loans)} loan(s) bought (position {event.position})"))
        self.stdout.write(f"  pool balance {dollars_grouped(called.pool_balance_cents):>16} "
                          f"(below {called.percent}% of the cut-off balance {dollars_grouped(called.cutoff_balance_cents)})\n"
                          f"  price: principal {dollars_grouped(called.price_cents):>12}\n"
                          f"         interest {dollars_grouped(called.interest_cents):>13}\n"
                          f"         total {dollars_grouped(called.total_cents):>16}")
