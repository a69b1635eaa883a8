"""The naive way: the month's work done with one ORM save per row, for a sample of loans.

What an implementation without the ledger's set-based writes would do: for
every payment, compute the split with the project's own pure functions
(exactly as `servicing.services.collections` does, so only the write pattern
differs), then write every row with its own `create()` or `save()`: take the
log position under its row lock and save it back, insert the event, its
postings, the collection line, save the loan's position and the stream head,
and read-add-save each account balance. The close part does the same for
each holder of record of a trust: a DistributionPaid event, its postings,
its Distribution row, one by one.

One exception to "a statement per row": an event's postings go in one
INSERT. The ledger's balance trigger checks every INSERT statement on
`ledger_posting` (ledger migration 0004), so a posting inserted on its own
would leave its event unbalanced and be refused. That makes the naive
figure a little optimistic, i.e. the ratio to the real path conservative.

Everything happens inside one transaction that is rolled back at the end, so
the benchmark's database is exactly as it was: the figure is a timing, never
a fact. What a commit would add is handled as follows:

- Deferred checks (Django's foreign keys are DEFERRABLE INITIALLY DEFERRED;
  before migration 0004 the balance trigger was a deferred per-row constraint
  trigger too) run only at commit, and a rollback never runs them. By
  default (`check_deferred=True`) they are fired inside the timed work with
  `SET CONSTRAINTS ALL IMMEDIATE`, so the naive way pays what the real path
  pays at its commit. With `check_deferred=False` they are skipped and the
  naive figure is optimistic (the ratio conservative).
- The commit's WAL flush is never paid: the naive figure stays slightly
  optimistic either way.

The sample is timed and the benchmark scales it: `seconds_per_loan` (the
collections part over every loan of the sample, paying or not) times the
portfolio's loans, and `seconds_per_holder` times its holdings.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from ledger.hashing import content_of, event_hash
from ledger.models import GENESIS_HASH, AccountBalance, Event, LogPosition, Posting, Stream
from ledger.records import NewEvent, PostingLine
from remittance.calendar import Period, payment_date, record_date
from remittance.close_events import class_account, holder_stream
from remittance.models import Distribution
from servicing.models import CollectionLine, LoanPosition, loan_stream
from servicing.payment_application import apply_payment, is_payoff
from servicing.projections import COLLECTION_KEYS, copy_position_after
# The real path's PaymentPosted builder (private, but pure): using it keeps the
# naive events identical in content to the real ones, so only the writes differ.
from servicing.services.collections import _payment_event
from servicing.services.loan_events import require_open
from servicing.services.payoff import money_position, payoff_events
from trusts.models import Holder, SecurityClass, Trust
from trusts.selectors import holders_of_record

# What the close part shares out per class, pro rata to face held: the point
# is the write pattern, not the figures (the waterfall is not run).
CLASS_INTEREST_CENTS = 1_000_000
CLASS_PRINCIPAL_CENTS = 5_000_000


class _Rollback(Exception):
    """Raised at the end of the timed work to undo every row it wrote."""


@dataclass
class _Tally:
    """What the naive way wrote and asked: rows written (inserted or updated) and statements sent."""

    events: int = 0
    postings: int = 0
    rows: int = 0
    queries: int = 0

    def count_query(self, execute: Callable, sql, params, many, context):
        """A Django execute wrapper: counts every statement the ORM sends."""
        self.queries += 1
        return execute(sql, params, many, context)


def naive_month(*, loans: list[str], received_on: date, payment_amounts: dict[str, int],
                trust_code: str | None = None, check_deferred: bool = True) -> dict:
    """Post the month's payments of `loans` (and pay `trust_code`'s holders) row by row; roll it all back.

    `payment_amounts` maps a loan to the cents received on `received_on`; a
    loan without an amount (or with None) paid nothing this month and costs
    nothing but is counted among `loans`. Returns {"loans", "payments",
    "holders", "events", "postings", "rows", "queries", "seconds",
    "collections_seconds", "close_seconds", "rows_per_second",
    "seconds_per_loan", "seconds_per_holder"}; `rows` counts every row
    written (inserted or updated; one statement each but an event's postings) and
    `queries` every statement sent.
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
    return {
        "loans": len(loans), "payments": payments, "holders": holders, "events": tally.events,
        "postings": tally.postings, "rows": tally.rows, "queries": tally.queries, "seconds": seconds,
        "collections_seconds": timings["collections"], "close_seconds": timings["close"],
        "rows_per_second": tally.rows / seconds if seconds > 0 else 0.0,
        "seconds_per_loan": timings["collections"] / len(loans) if loans else 0.0,
        "seconds_per_holder": timings["close"] / holders if holders else 0.0,
    }


def _fire_deferred_checks() -> None:
    """Run now the checks a commit would run (deferred foreign keys and constraint triggers), then defer again.

    SET CONSTRAINTS ... IMMEDIATE checks every pending deferred row at once;
    deferring again lets the next events' postings be inserted one by one.
    Rolled back with the transaction (or savepoint) like everything else.
    """
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


# --- Collections ---------------------------------------------------------------------------------------


def _collections(loans: list[str], received_on: date, amounts: dict[str, int], tally: _Tally) -> int:
    """Each loan's payment computed and written row by row; returns how many loans paid."""
    paid = 0
    for loan in loans:
        amount = amounts.get(loan)
        if not amount:
            continue  # a missed payment: nothing happens for this loan this month
        _post_payment(loan, amount, received_on, tally)
        paid += 1
    return paid


def _post_payment(loan: str, amount_cents: int, received_on: date, tally: _Tally) -> None:
    """One loan's payment: its events from the project's pure functions, each recorded naively."""
    position = require_open(LoanPosition.objects.select_related("loan").filter(loan_id=loan).first(), loan)
    # Its own reference, so the rows never clash with the real month's (rolled back anyway).
    reference = f"NAIVE-{received_on:%Y-%m}-{loan}"
    request = {"loan_number": loan, "reference": reference, "amount_cents": amount_cents,
               "received_on": received_on.isoformat(), "principal_only": False}
    if is_payoff(position=money_position(position, for_payoff=True), amount_cents=amount_cents,
                 received_on=received_on):
        events, _ = payoff_events(position=position, amount_cents=amount_cents, received_on=received_on,
                                  reference=reference, request=request)
    else:
        application = apply_payment(position=money_position(position), amount_cents=amount_cents,
                                    received_on=received_on)
        events = [_payment_event(position, application, request)]
    for new in events:
        event = _record(loan_stream(loan), new, tally)
        _save_collection_line(event, loan, tally)
        _save_position(position, event, tally)


def _save_collection_line(event: Event, loan: str, tally: _Tally) -> None:
    """The close's collection line, when the event collected anything (the projection's rule)."""
    amounts = event.payload.get("collections") or {}
    if not any(amounts.get(key) for key in COLLECTION_KEYS):
        return
    CollectionLine.objects.create(event_position=event.position, loan_id=loan, effective_date=event.effective_date,
                                  **{key: amounts[key] for key in COLLECTION_KEYS})
    tally.rows += 1


def _save_position(position: LoanPosition, event: Event, tally: _Tally) -> None:
    """The loan's position after the event, as the projection's handler copies it, saved whole."""
    copy_position_after(position, event.payload["position_after"])
    position.stream_version = event.version
    position.last_position = event.position
    position.save()
    tally.rows += 1


# --- The ledger, row by row ----------------------------------------------------------------------------


def _record(stream: str, new: NewEvent, tally: _Tally) -> Event:
    """Append one event the naive way: position, event, postings, stream head and balances, a save each."""
    position = _next_position(tally)
    head = Stream.objects.filter(name=stream).first()
    version = head.version + 1 if head else 1
    previous = head.head_hash if head else GENESIS_HASH
    recorded_at = timezone.now()
    digest = event_hash(
        previous_hash=previous, position=position, version=version,
        content=content_of(stream=stream, event_type=new.event_type, payload=new.payload,
                           effective_date=new.effective_date, postings=new.postings),
        recorded_at=recorded_at, acting_user_id=None, idempotency_key=new.idempotency_key,
    )
    event = Event.objects.create(
        position=position, stream=stream, version=version, event_type=new.event_type, payload=new.payload,
        effective_date=new.effective_date, recorded_at=recorded_at, acting_user=None,
        idempotency_key=new.idempotency_key, previous_hash=previous, hash=digest,
    )
    tally.events += 1
    tally.rows += 1
    # The one departure from a row per statement: the ledger's balance trigger checks every INSERT
    # statement on ledger_posting (migration 0004), so a statement holding one line of a two-line
    # event is refused. The event's postings go in one INSERT, the fewest a naive writer can use.
    Posting.objects.bulk_create([
        Posting(event=event, account=line.account, amount_cents=line.amount_cents, effective_date=new.effective_date)
        for line in new.postings
    ])
    tally.postings += len(new.postings)
    tally.rows += len(new.postings)
    _save_head(head, stream, version, digest)
    tally.rows += 1
    for line in new.postings:
        _add_to_balance(line, position)
        tally.rows += 1
    return event


def _next_position(tally: _Tally) -> int:
    """The next global position: the log's row locked, moved on by one and saved back."""
    log = LogPosition.objects.select_for_update().filter(id=1).first()
    if log is None:
        # As the service does on a log that never had its position row.
        last = Event.objects.aggregate(last=Max("position"))["last"] or 0
        log = LogPosition(id=1, last_position=last)
    log.last_position += 1
    log.save()
    tally.rows += 1
    return log.last_position


def _save_head(head: Stream | None, stream: str, version: int, digest: str) -> None:
    if head is None:
        Stream.objects.create(name=stream, version=version, head_hash=digest)
        return
    head.version, head.head_hash = version, digest
    head.save()


def _add_to_balance(line: PostingLine, position: int) -> None:
    """Read the account's balance, add the line, save it back (or create it on its first posting)."""
    balance = AccountBalance.objects.filter(account=line.account).first()
    if balance is None:
        AccountBalance.objects.create(account=line.account, balance_cents=line.amount_cents, posting_count=1,
                                      last_position=position)
        return
    balance.balance_cents += line.amount_cents
    balance.posting_count += 1
    balance.last_position = position
    balance.save()


# --- The close's holder payments -----------------------------------------------------------------------


def _require_unpaid(trust_code: str, period: Period) -> None:
    """Refuse up front (not timed) a period whose distributions exist: the rows would clash."""
    if Distribution.objects.filter(security_class__trust__code=trust_code, period=str(period)).exists():
        raise ValueError(f"trust {trust_code} already has distributions for {period}: run naive_month "
                         "before the real close of that period, or for another month")


def _close(trust_code: str, period: Period, tally: _Tally) -> int:
    """Pay every holder of record of every class of the trust, row by row; returns the payments made."""
    trust = Trust.objects.get(code=trust_code)
    paying = payment_date(period, payment_day=trust.payment_day)
    of_record = record_date(period)
    payments = 0
    for security_class in SecurityClass.objects.filter(trust=trust).order_by("priority", "name"):
        held = holders_of_record(security_class=security_class, record_date=of_record)
        total = sum(held.values())
        for holder_code, face in held.items():
            interest = CLASS_INTEREST_CENTS * face // total
            principal = CLASS_PRINCIPAL_CENTS * face // total
            _pay_holder(trust, security_class, holder_code, face, interest, principal, period, of_record, paying,
                        tally)
            payments += 1
    return payments


def _pay_holder(trust: Trust, security_class: SecurityClass, holder_code: str, face: int, interest: int,
                principal: int, period: Period, of_record: date, paying: date, tally: _Tally) -> None:
    """One DistributionPaid (remittance.close_events' shape) on the holder's stream, and its Distribution row."""
    payload = {"trust": trust.code, "period": str(period), "class": security_class.name, "face_held_cents": face,
               "interest_cents": interest, "principal_cents": principal, "record_date": of_record.isoformat(),
               "payment_date": paying.isoformat()}
    lines = [(class_account(trust.code, security_class.name, "interest"), -interest),
             (class_account(trust.code, security_class.name, "principal"), -principal),
             (f"holder:{holder_code}:cash", interest + principal)]
    new = NewEvent("DistributionPaid", payload, paying, tuple(PostingLine(a, c) for a, c in lines if c))
    event = _record(holder_stream(holder_code), new, tally)
    holder = Holder.objects.get(code=holder_code)
    Distribution.objects.create(
        holder=holder, security_class=security_class, period=str(period), record_date=of_record,
        payment_date=paying, face_held_cents=face, interest_cents=interest, principal_cents=principal,
        event_position=event.position,
    )
    tally.rows += 1
