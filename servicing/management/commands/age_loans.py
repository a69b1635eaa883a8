"""Age every active loan (delinquency buckets and late charges) as of a day; what the daily task runs."""
from django.core.management.base import BaseCommand

from ledger.domain.money import dollars
from servicing.management.commands._common import acting_user, past_date, business_today
from servicing.services.delinquency import loans_age


class Command(BaseCommand):
    help = "Record delinquency bucket changes and late charges as of a day (default today); safe to rerun."

    def add_arguments(self, parser):
        parser.add_argument("--as-of", type=past_date, help="YYYY-MM-DD (default: today)")
        parser.add_argument("--user", help="username recorded as the acting user")

    def handle(self, *args, **options):
        result = loans_age(as_of=options["as_of"] or business_today(), acting_user=acting_user(options["user"]))
        self.stdout.write(f"aged {result.loans_aged} loan(s) as of {result.as_of.isoformat()}: "
                          f"{len(result.bucket_changes)} bucket change(s), {result.late_charges} late charge(s) "
                          f"of {dollars(result.late_charges_cents)}")
