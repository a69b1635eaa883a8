"""Small builders for ledger tests."""
from datetime import date

from ledger.domain.records import NewEvent, PostingLine

DAY = date(2026, 1, 31)


def cash_event(amount_cents=10_000, *, account="loan:L1:principal", key=None, event_type="PaymentPosted",
               effective_date=DAY, payload=None):
    return NewEvent(
        event_type=event_type,
        payload=payload if payload is not None else {"amount_cents": amount_cents},
        effective_date=effective_date,
        postings=(PostingLine("trust:T1:custodial", amount_cents), PostingLine(account, -amount_cents)),
        idempotency_key=key,
    )
