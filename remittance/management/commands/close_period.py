"""close_period: close a trust's period now (or enqueue it), and print what it paid.

Run on the server by its operator, it closes as the system (ledger.actors.OPERATOR_COMMAND),
like the month-end schedule: no second approver. Staff ask for a close through an approval
request instead (the admin, the API).
"""
from datetime import date

from django.core.management.base import BaseCommand, CommandError

from ledger.actors import OPERATOR_COMMAND
from remittance.domain.trust_calendar import Period
from remittance.errors import CloseRefused
from remittance.services.closing import period_close, periods_due
from remittance.selectors.period_summary import summary_lines


class Command(BaseCommand):
    help = "Close one trust's period (--trust CODE) or every trust's (--all): YYYY-MM."

    def add_arguments(self, parser):
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--trust", help="the trust's code")
        which.add_argument("--all", action="store_true", help="every trust with that period open")
        parser.add_argument("--period", required=True, help="the collection period, YYYY-MM")
        parser.add_argument("--async", dest="enqueue", action="store_true", help="enqueue on Celery instead")
        parser.add_argument("--as-of", type=date.fromisoformat, help="today's date for the check that the "
                            "period has ended (default: today)")

    def handle(self, *args, trust, all, period, enqueue, as_of, **options):
        try:
            closing = Period.parse(period)
        except ValueError as error:
            raise CommandError(str(error)) from None
        codes = periods_due(period=closing) if all else [trust]
        if enqueue:
            from remittance.tasks import close_period_task

            for code in codes:
                result = close_period_task.delay(code, str(closing), as_of.isoformat() if as_of else None)
                self.stdout.write(f"{code} {closing}: enqueued as task {result.id}")
            return
        failed = []
        for code in codes:
            try:
                outcome = period_close(trust_code=code, period=closing, as_of=as_of, acting_user=OPERATOR_COMMAND)
            except CloseRefused as refused:
                failed.append(str(refused))
                self.stderr.write(f"{code} {closing}: {refused}")
                continue
            self.stdout.write("\n".join(summary_lines(outcome.result)))
        if not codes:
            self.stdout.write(f"no trust has {closing} open")
        if failed:
            raise CommandError(f"{len(failed)} close(s) refused; first: {failed[0]}")
