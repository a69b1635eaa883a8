"""Record the ARM rate changes and interest-only ends due as of a day; what the daily task runs."""
from django.core.management.base import BaseCommand, CommandError

from servicing.errors import ServicingError
from servicing.management.commands._common import acting_user, business_today, past_date
from servicing.services.terms_changes import terms_changes_record


class Command(BaseCommand):
    help = "Record every change of terms due by a day (default today); each once, so safe to rerun."

    def add_arguments(self, parser):
        parser.add_argument("--as-of", type=past_date, help="YYYY-MM-DD (default: today)")
        parser.add_argument("--user", help="username recorded as the acting user")

    def handle(self, *args, **options):
        try:
            result = terms_changes_record(as_of=options["as_of"] or business_today(),
                                          acting_user=acting_user(options["user"]))
        except ServicingError as refused:
            raise CommandError(str(refused)) from None
        for fact in result.recorded:
            self.stdout.write(f"loan {fact.loan_number}: {fact.reason} from {fact.first_due_date}: rate "
                              f"{fact.note_rate_before}% -> {fact.note_rate}%, P&I {fact.payment_pi_cents_before} "
                              f"-> {fact.payment_pi_cents} cents")
        for line in result.waiting:
            self.stdout.write(f"waiting: {line}")
        for line in result.refused:
            self.stdout.write(f"refused: {line}")
        self.stdout.write(f"recorded {len(result.recorded)} change(s) of terms as of {result.as_of.isoformat()}")
