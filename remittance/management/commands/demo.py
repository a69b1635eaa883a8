"""The demo: the system's main job on the embedded default, printed for people.

For now it shows the ledger: a borrower's payment appended with its double
entry, balances by account and by prefix, an idempotent retry and a stale
writer refused, then the whole log verified.
"""
from datetime import date

from django.core.management import call_command
from django.core.management.base import BaseCommand

from ledger.errors import ConcurrencyConflict
from ledger.money import dollars_grouped
from ledger.records import NewEvent, PostingLine
from ledger.selectors import account_balance, balances_under, stream_events
from ledger.services import append


def _payment(key: str, received_on: date) -> NewEvent:
    # The seed's installment on $100,000 at 6%: 500.00 interest and 99.55 principal.
    return NewEvent(
        event_type="PaymentPosted",
        payload={"loan_number": "L001", "amount_cents": 59955, "reference": key},
        effective_date=received_on,
        postings=(
            PostingLine("servicer:custodial:cash", 59955),
            PostingLine("loan:L001:interest_income", -50000),
            PostingLine("loan:L001:principal", -9955),
        ),
        idempotency_key=key,
    )


class Command(BaseCommand):
    help = "Run the demo on the configured database (make demo uses a fresh SQLite file)."

    def handle(self, *args, **options):
        out = self.stdout.write
        out(self.style.MIGRATE_HEADING("1. Boarding a $100,000 loan at 6% and posting two monthly payments"))
        append(stream="loan:L001", expected_version=0, events=[NewEvent(
            event_type="LoanBoarded", payload={"loan_number": "L001", "note_rate": "6", "term_months": 360},
            effective_date=date(2026, 1, 1),
            postings=(PostingLine("loan:L001:principal", 10_000_000), PostingLine("originator:ABC:funding", -10_000_000)),
        )])
        append(stream="loan:L001", expected_version=1, events=[_payment("ACH-0001", date(2026, 2, 1))])
        append(stream="loan:L001", expected_version=2, events=[_payment("ACH-0002", date(2026, 3, 1))])
        for event in stream_events("loan:L001"):
            out(f"   #{event.position} v{event.version} {event.effective_date} {event.event_type:<14} "
                f"hash {event.hash[:12]}… <- {event.previous_hash[:12]}…")

        out(self.style.MIGRATE_HEADING("2. Balances"))
        for account, cents in balances_under("loan:L001:").items():
            out(f"   {account:<28} {dollars_grouped(cents):>14}")
        feb = account_balance("loan:L001:principal", as_of=date(2026, 2, 28))
        out(f"   principal as of 2026-02-28   {dollars_grouped(feb):>14}")

        out(self.style.MIGRATE_HEADING("3. A retried bank file and a stale writer"))
        again = append(stream="loan:L001", expected_version=None, events=[_payment("ACH-0002", date(2026, 3, 1))])
        out(f"   retry of ACH-0002 returned the original event #{again[0].position}; nothing posted twice")
        try:
            append(stream="loan:L001", expected_version=1, events=[_payment("ACH-0003", date(2026, 4, 1))])
        except ConcurrencyConflict as conflict:
            out(f"   refused: {conflict}")

        out(self.style.MIGRATE_HEADING("4. Verifying the ledger"))
        call_command("verify_ledger", stdout=self.stdout)
