"""Import a payment file (CSV: loan_number, received_on, amount, reference; format in the README)."""
from django.core.management.base import BaseCommand, CommandError

from servicing.errors import FileRejected
from servicing.management.commands._common import acting_user, read_file
from servicing.services.payment_files import payment_file_import, payment_file_preview


class Command(BaseCommand):
    help = "Post every payment of a file, or none if any row is bad (all bad rows are listed)."

    def add_arguments(self, parser):
        parser.add_argument("file", help="path to the payment file CSV")
        parser.add_argument("--dry-run", action="store_true", help="check the file and report; post nothing")
        parser.add_argument("--user", help="username recorded as the acting user")

    def handle(self, *args, **options):
        raw = read_file(options["file"])
        if options["dry_run"]:
            preview = payment_file_preview(raw=raw)
            for problem in preview.problems:
                self.stdout.write(f"  {options['file']} {problem}")
            self.stdout.write(f"{len(preview.to_post)} payment(s) would post; {len(preview.already_posted)} "
                              f"already posted; {len(preview.problems)} bad row(s)")
            return
        try:
            result = payment_file_import(raw=raw, acting_user=acting_user(options["user"]))
        except FileRejected as rejected:
            raise CommandError(f"{options['file']}: {rejected}") from None  # the file, then each line and column
        paid_off = sum(1 for r in result.posted if r.paid_off)
        self.stdout.write(self.style.SUCCESS(
            f"posted {len(result.posted)} payment(s) ({paid_off} payoff(s)); "
            f"{len(result.already_posted)} already posted"))
