"""Form a trust from a deal file (JSON; format in the README)."""
from django.core.management.base import BaseCommand, CommandError

from servicing.management.commands._common import acting_user, read_file
from trusts.errors import DealRejected
from trusts.services.forming import deal_file_form


class Command(BaseCommand):
    help = "Form a trust, move its loans in, issue its classes and place its holdings, in one transaction."

    def add_arguments(self, parser):
        parser.add_argument("deal", help="path to the deal file (JSON)")
        parser.add_argument("--user", help="username recorded as the acting user")

    def handle(self, *args, **options):
        try:
            trust = deal_file_form(raw=read_file(options["deal"]), acting_user=acting_user(options["user"]))
        except DealRejected as rejected:
            raise CommandError(f"{options['deal']}: {rejected}") from None  # the file, then each key
        self.stdout.write(self.style.SUCCESS(
            f"formed {trust.code}: {trust.pool.count()} loans, {trust.classes.count()} classes"
        ))
