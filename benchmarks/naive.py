"""The naive way: the month's work done one row at a time through the public services, for a sample of loans.

What an implementation without the ledger's set-based, batched paths would do
with the very same services: post every payment on its own through the public
post-payment service (`servicing.services.payments.payment_post`: one
append, one transaction each, the way a loop over a payment file or a web form
would), and pay every holder of record of a trust with its own append of one
DistributionPaid on the holder's stream (`ledger.services.append`, one event a
call, where the real close appends every stream's events in one batch). The
events are recorded, sealed and projected by the ledger's one writer exactly as
the real path's are: the baseline writes nothing itself, so only the
granularity of the calls differs.

Everything happens inside one transaction that is rolled back at the end, so
the benchmark's database is exactly as it was: the figure is a timing, never
a fact. What a commit would add is handled as follows:

- Deferred checks (Django's foreign keys are DEFERRABLE INITIALLY DEFERRED)
  run only at commit, and a rollback never runs them. By default
  (`check_deferred=True`) they are fired inside the timed work with
  `SET CONSTRAINTS ALL IMMEDIATE`, so the naive way pays what the real path
  pays at its commit. With `check_deferred=False` they are skipped and the
  naive figure is optimistic (the ratio conservative).
- Each service's own transaction is a savepoint inside the outer one, and the
  commit's WAL flush is never paid: the naive figure stays slightly optimistic
  either way.

The sample is timed and the benchmark scales it: `seconds_per_loan` (the
collections part over every loan of the sample, paying or not) times the
portfolio's loans, and `seconds_per_holder` times its holdings.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from django.db import connection, transaction

from ledger.actors import SystemActor
from ledger.domain.records import NewEvent, RecordedEvent
from ledger.services import append
from remittance.domain.trust_calendar import Period, payment_date, record_date
from remittance.domain.close_events import distribution_paid, holder_stream
from remittance.domain.close_figures import HolderPayment
from remittance.models import Distribution
from servicing.services.payments import payment_post
from trusts.models import SecurityClass, Trust
from trusts.selectors import holders_of_record

# Who posts and pays in the benchmark: the system, by name (nothing it writes is ever committed).
BENCHMARK = SystemActor("naive benchmark")

# What the close part shares out per class, pro rata to face held: the point
# is the write pattern, not the figures (the waterfall is not run).
CLASS_INTEREST_CENTS = 1_000_000
CLASS_PRINCIPAL_CENTS = 5_000_000


class _Rollback(Exception):
    """Raised at the end of the timed work to undo every row it wrote."""


@dataclass
class _Tally:
    """What the naive way recorded and asked: events and postings appended, statements sent."""

    events: int = 0
    postings: int = 0
    queries: int = 0

    def count_query(self, execute: Callable, sql, params, many, context):
        """A Django execute wrapper: counts every statement the ORM sends."""
        self.queries += 1
        return execute(sql, params, many, context)

    def recorded(self, events: Sequence[RecordedEvent]) -> None:
        self.events += len(events)
        self.postings += sum(len(e.postings) for e in events)


def naive_month(*, loans: list[str], received_on: date, payment_amounts: dict[str, int],
                trust_code: str | None = None, check_deferred: bool = True) -> dict:
    """Post the month's payments of `loans` (and pay `trust_code`'s holders) one call each; roll it all back.

    `payment_amounts` maps a loan to the cents received on `received_on`; a
    loan without an amount (or with None) paid nothing this month and costs
    nothing but is counted among `loans`. Returns {"loans", "payments",
    "holders", "events", "postings", "rows", "queries", "seconds",
    "collections_seconds", "close_seconds", "rows_per_second",
    "seconds_per_loan", "seconds_per_holder"}; `rows` counts the event and
    posting rows recorded (as the real path's figures do) and `queries` every
    statement sent.
    """
    tally = _Tally()
    timings: dict[str, float] = {"collections": 0.0, "close": 0.0}
    payments = holders = 0
    if trust_code is not None:
        _require_unpaid(trust_code, Period.containing(received_on))
    try:
        with transaction.atomic(), connection.execute_wrapper(tally.count_query):
            started = time.perf_counter()
            payments = _collections(loans, received_on, payment_amounts, tally)
            if check_deferred:
                _fire_deferred_checks()
            timings["collections"] = time.perf_counter() - started
            if trust_code is not None:
                started = time.perf_counter()
                holders = _close(trust_code, Period.containing(received_on), tally)
                if check_deferred:
                    _fire_deferred_checks()
                timings["close"] = time.perf_counter() - started
            raise _Rollback
    except _Rollback:
        pass
    seconds = timings["collections"] + timings["close"]
    rows = tally.events + tally.postings
    return {
        "loans": len(loans), "payments": payments, "holders": holders, "events": tally.events,
        "postings": tally.postings, "rows": rows, "queries": tally.queries, "seconds": seconds,
        "collections_seconds": timings["collections"], "close_seconds": timings["close"],
        "rows_per_second": rows / seconds if seconds > 0 else 0.0,
        "seconds_per_loan": timings["collections"] / len(loans) if loans else 0.0,
        "seconds_per_holder": timings["close"] / holders if holders else 0.0,
    }


def _fire_deferred_checks() -> None:
    """Run now the checks a commit would run (deferred foreign keys and constraint triggers), then defer again.

    SET CONSTRAINTS ... IMMEDIATE checks every pending deferred row at once;
    deferring again lets the next calls go on as before. Rolled back with the
    transaction (or savepoint) like everything else.
    """
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


# --- Collections: one payment a call ------------------------------------------------------------------


def _collections(loans: list[str], received_on: date, amounts: dict[str, int], tally: _Tally) -> int:
    """Each loan's payment posted on its own through the public service; returns how many loans paid."""
    paid = 0
    for loan in loans:
        amount = amounts.get(loan)
        if not amount:
            continue  # a missed payment: nothing happens for this loan this month
        # Its own reference, so the payment never clashes with the real month's (rolled back anyway).
        posted = payment_post(loan_number=loan, amount_cents=amount, received_on=received_on,
                              reference=f"NAIVE-{received_on:%Y-%m}-{loan}", acting_user=BENCHMARK)
        tally.recorded([posted.event] + ([posted.refund_event] if posted.refund_event else []))
        paid += 1
    return paid


# --- The close's holder payments: one append each -----------------------------------------------------


def _require_unpaid(trust_code: str, period: Period) -> None:
    """Refuse up front (not timed) a period whose distributions exist: the rows would clash."""
    if Distribution.objects.filter(security_class__trust__code=trust_code, period=str(period)).exists():
        raise ValueError(f"trust {trust_code} already has distributions for {period}: run naive_month "
                         "before the real close of that period, or for another month")


def _close(trust_code: str, period: Period, tally: _Tally) -> int:
    """Pay every holder of record of every class of the trust, one append each; returns the payments made."""
    trust = Trust.objects.get(code=trust_code)
    paying = payment_date(period, payment_day=trust.payment_day)
    of_record = record_date(period)
    payments = 0
    for security_class in SecurityClass.objects.filter(trust=trust).order_by("priority", "name"):
        held = holders_of_record(security_class=security_class, record_date=of_record)
        total = sum(held.values())
        for holder_code, face in held.items():
            payment = _distribution_paid(trust.code, security_class.name, period, face,
                                         interest=CLASS_INTEREST_CENTS * face // total,
                                         principal=CLASS_PRINCIPAL_CENTS * face // total,
                                         of_record=of_record, paying=paying, holder_code=holder_code)
            tally.recorded(append(stream=holder_stream(holder_code), expected_version=None, events=[payment],
                                  acting_user=BENCHMARK))
            payments += 1
    return payments


def _distribution_paid(trust_code: str, class_name: str, period: Period, face: int, *, interest: int,
                       principal: int, of_record: date, paying: date, holder_code: str) -> NewEvent:
    """One holder's DistributionPaid, built by the close's own builder (remittance.domain.close_events)."""
    payment = HolderPayment(holder_code=holder_code, class_name=class_name, face_held_cents=face,
                            interest_cents=interest, principal_cents=principal)
    return distribution_paid(trust_code, str(period), payment, record_date=of_record, payment_date=paying)
