"""Record a transfer of a class's bonds from one holder to another, effective on settlement."""
from django.core.management.base import BaseCommand, CommandError

from ledger.domain.money import dollars_grouped
from servicing.management.commands._common import acting_user, dollars_option, iso_date
from trusts.errors import TrustError
from trusts.services.register import holding_transfer


class Command(BaseCommand):
    help = "Move original face of a class between holders; never more than the seller holds."

    def add_arguments(self, parser):
        parser.add_argument("--trust", required=True, help="trust code")
        parser.add_argument("--class", dest="class_name", required=True, help="class name, e.g. A")
        parser.add_argument("--from", dest="from_holder", required=True, help="selling holder's code")
        parser.add_argument("--to", dest="to_holder", required=True, help="buying holder's code")
        parser.add_argument("--face", required=True, type=dollars_option("--face"), help="original face in dollars, e.g. 50000.00")
        parser.add_argument("--trade-date", required=True, type=iso_date, help="trade date (YYYY-MM-DD)")
        parser.add_argument("--settlement-date", required=True, type=iso_date, help="settlement date (YYYY-MM-DD)")
        parser.add_argument("--user", help="username recorded as the acting user")

    def handle(self, *args, **options):
        try:
            event = holding_transfer(
                trust_code=options["trust"], class_name=options["class_name"], from_holder=options["from_holder"],
                to_holder=options["to_holder"], face_cents=options["face"], trade_date=options["trade_date"],
                settlement_date=options["settlement_date"], acting_user=acting_user(options["user"]),
            )
        except TrustError as refused:
            raise CommandError(str(refused)) from None
        self.stdout.write(self.style.SUCCESS(
            f"transferred {dollars_grouped(options['face'])} of {options['trust']} class {options['class_name']} "
            f"from {options['from_holder']} to {options['to_holder']}, settling "
            f"{options['settlement_date'].isoformat()} (position {event.position})"
        ))
