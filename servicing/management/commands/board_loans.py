"""Board loans from a loan tape CSV (format in the README)."""
from django.core.management.base import BaseCommand, CommandError

from servicing.errors import FileRejected
from servicing.management.commands._common import acting_user, business_today, past_date, read_file
from servicing.services.boarding import tape_board


class Command(BaseCommand):
    help = "Board every loan of a tape, or none if any row is bad (all bad rows are listed)."

    def add_arguments(self, parser):
        parser.add_argument("tape", help="path to the loan tape CSV")
        parser.add_argument("--boarded-on", type=past_date, help="boarding date (default: today)")
        parser.add_argument("--user", help="username recorded as the acting user")

    def handle(self, *args, **options):
        raw = read_file(options["tape"])
        try:
            result = tape_board(
                raw=raw, boarded_on=options["boarded_on"] or business_today(),
                acting_user=acting_user(options["user"]),
            )
        except FileRejected as rejected:
            raise CommandError(f"{options['tape']}: {rejected}") from None  # the file, then each line and column
        self.stdout.write(self.style.SUCCESS(
            f"boarded {len(result.boarded)} loan(s); {len(result.already_boarded)} already boarded on the same terms"
        ))
