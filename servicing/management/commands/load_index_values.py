"""Load ARM index values (SOFR30A, CMT1Y) from a CSV file of index,date,percent; safe to rerun."""
from django.core.management.base import BaseCommand, CommandError

from servicing.errors import ServicingError
from servicing.management.commands._common import acting_user, read_file
from servicing.services.terms_changes import index_values_load


class Command(BaseCommand):
    help = "Record index values from FILE.csv (columns index,date,percent); all or nothing."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--user", help="username recorded as the acting user")

    def handle(self, *args, **options):
        try:
            result = index_values_load(raw=read_file(options["file"]), acting_user=acting_user(options["user"]),
                                       source=options["file"])
        except ServicingError as refused:
            raise CommandError(str(refused)) from None
        self.stdout.write(f"recorded {result.recorded} index value(s); {result.already_recorded} already recorded")
