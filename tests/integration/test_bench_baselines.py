"""The benchmark's two baselines: the COPY limit and the naive month, measured without a trace.

Both must leave the database as they found it: copy_limit drops its scratch
schema, naive_month rolls back every row it wrote. The naive month must also
do the same work as the real path (as many events and postings for the same
payments), through the same public services one call at a time, or its figure
would not be comparable.
"""
from datetime import timedelta

import pytest
from django.db import transaction

from ledger import business_time
from benchmarks.copy_limit import CopyLimitUnavailable, copy_limit, scratch_schema_exists
from benchmarks.naive import naive_month
from benchmarks.portfolio import (
    BenchCalendar, Shape, deal_file, loan_number, payment_amount_cents, synthetic_loan, tape_chunks, trust_code,
)
from ledger.models import AccountBalance, Event, LogPosition, Posting, Stream
from remittance.domain.trust_calendar import Period, record_date
from remittance.models import Distribution
from servicing.models import CollectionLine, LoanPosition
from servicing.services.boarding import tape_board
from tests.actors import TESTS
from servicing.services.payments import payment_post
from trusts.models import SecurityClass
from trusts.selectors import holders_of_record
from trusts.services.forming import deal_file_form

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

# One loan of each kind that writes differently: a plain payment, a curtailment, a payoff with a refund.
KINDS = ("on_time", "curtailment", "payoff")


class _Undo(Exception):
    pass


def _snapshot() -> dict:
    """Every row naive_month could touch, as sorted tuples: equal snapshots mean nothing was written."""
    tables = (Event, Posting, LoanPosition, Stream, AccountBalance, LogPosition, CollectionLine, Distribution)
    return {model._meta.label: sorted(model.objects.values_list(), key=repr) for model in tables}


def _board_month() -> tuple[BenchCalendar, list[str], dict[str, int]]:
    """Three loans boarded from the benchmark's tape and pooled in one trust; their payments this month."""
    calendar = BenchCalendar.before(business_time.today())
    shape = Shape(loans=len(KINDS), trusts=1, holdings=10)
    for raw in tape_chunks(range(shape.loans), calendar, chunk=100):
        tape_board(raw=raw, boarded_on=calendar.boarded_on, acting_user=TESTS)
    deal_file_form(raw=deal_file(shape, 0, calendar), acting_user=TESTS)
    loans = [loan_number(i) for i in range(shape.loans)]
    amounts = {loan_number(i): payment_amount_cents(synthetic_loan(i), kind) for i, kind in enumerate(KINDS)}
    return calendar, loans, amounts


def _received_on(calendar: BenchCalendar):
    return calendar.first_due + timedelta(days=4)


def _real_counts(loans: list[str], amounts: dict[str, int], calendar: BenchCalendar) -> tuple[int, int]:
    """Events and postings the real service records for the same payments (rolled back too)."""
    before_events, before_postings = Event.objects.count(), Posting.objects.count()
    counts = (0, 0)
    try:
        with transaction.atomic():
            for loan in loans:
                payment_post(loan_number=loan, amount_cents=amounts[loan], received_on=_received_on(calendar),
                             reference=f"REAL-{loan}", acting_user=TESTS)
            counts = (Event.objects.count() - before_events, Posting.objects.count() - before_postings)
            raise _Undo
    except _Undo:
        pass
    return counts


def test_copy_limit_copies_every_row_and_leaves_no_schema_behind():
    result = copy_limit(events=300, postings=1_400, payload_bytes=600)
    assert result["events"] == 300 and result["postings"] == 1_400
    assert result["seconds"] > 0 and result["rows_per_second"] > 0
    assert 0 < result["generate_seconds"] and 0 < result["copy_only_seconds"]
    assert not scratch_schema_exists()


def test_copy_limit_refuses_to_run_inside_a_transaction():
    with transaction.atomic(), pytest.raises(CopyLimitUnavailable, match="outside transaction.atomic"):
        copy_limit(events=1, postings=2)
    assert not scratch_schema_exists()


def test_naive_month_does_the_real_work_and_writes_nothing():
    calendar, loans, amounts = _board_month()
    real_events, real_postings = _real_counts(loans, amounts, calendar)
    classes = SecurityClass.objects.filter(trust__code=trust_code(0))
    of_record = record_date(Period.containing(_received_on(calendar)))
    holders = sum(len(holders_of_record(security_class=c, record_date=of_record)) for c in classes)
    before = _snapshot()

    result = naive_month(loans=loans, received_on=_received_on(calendar), payment_amounts=amounts,
                         trust_code=trust_code(0))

    assert _snapshot() == before
    assert result["loans"] == 3 and result["payments"] == 3 and result["holders"] == holders > 0
    # A payoff with a refund is two events: four for the three loans, as the real path records.
    assert real_events == 4
    # Each holder payment: one event, postings on the class's interest and principal and the holder's cash.
    assert result["events"] == real_events + holders
    assert result["postings"] == real_postings + 3 * holders
    # Rows are counted as the real path's figures count them: the event and posting rows recorded.
    assert result["rows"] == result["events"] + result["postings"]
    # One call per payment and per holder, each its own append: many statements for every one of them.
    assert result["queries"] > result["payments"] + result["holders"]
    assert result["seconds"] > 0 and result["seconds_per_loan"] > 0 and result["seconds_per_holder"] > 0
    assert result["rows_per_second"] == pytest.approx(result["rows"] / result["seconds"])


def test_the_naive_holder_payment_is_the_event_the_real_close_records():
    """The naive close appends, holder by holder, exactly the DistributionPaid the real close batches:
    same typed payload and version, same postings in the same order, same date, no idempotency key."""
    from datetime import date

    from benchmarks import naive
    from remittance.domain import close_events
    from remittance.domain.close_figures import HolderPayment

    period, of_record, paying = Period(2026, 3), date(2026, 3, 31), date(2026, 4, 25)
    ctx = close_events.CloseContext(trust_code="BENCH-T", period=str(period), record_date=of_record,
                                    payment_date=paying, through_position=0, previous_through=0, original_faces={},
                                    coupons={}, pool_original_cents=0)
    for interest, principal in ((123_456, 654_321), (0, 5_000), (7_000, 0)):
        real = close_events._distribution_paid(ctx, HolderPayment(
            holder_code="H-9", class_name="A", face_held_cents=25_000_000, interest_cents=interest,
            principal_cents=principal))
        ours = naive._distribution_paid("BENCH-T", "A", period, 25_000_000, interest=interest, principal=principal,
                                        of_record=of_record, paying=paying, holder_code="H-9")
        assert ours == real


def test_naive_month_without_a_trust_only_posts_the_payments():
    calendar, loans, amounts = _board_month()
    before = _snapshot()
    result = naive_month(loans=loans, received_on=_received_on(calendar),
                         payment_amounts={loans[0]: amounts[loans[0]]}, check_deferred=False)
    assert _snapshot() == before
    assert result["loans"] == 3 and result["payments"] == 1 and result["holders"] == 0
    assert result["events"] == 1 and result["close_seconds"] == 0


def test_the_benchmark_seals_nothing_and_imports_nothing_private():
    """Only ledger.services seals events: the benchmark writes through the public services, as a user would."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    private = re.compile(r"^\s*from\s+\S+\s+import\s+.*\b_[a-z]\w*|ledger\.hashing|event_hash|"
                         r"(Event|Posting|Stream|LogPosition|AccountBalance)\.objects\.(create|bulk_create)")
    found = [f"{path.relative_to(root)}:{number}: {line.strip()}"
             for path in sorted((root / "benchmarks").glob("*.py"))
             for number, line in enumerate(path.read_text().splitlines(), 1) if private.search(line)]
    assert found == []
