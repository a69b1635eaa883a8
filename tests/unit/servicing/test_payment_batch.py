"""The batch math of a payment file against the reference, payment by payment.

`servicing.domain.payment_batch` (through `ordinary_payment_worked_out`) must
give exactly the events and postings `payment_worked_out` gives (apply_payment,
is_payoff, the payoff quote), and leave the same positions once the events are
folded, for random chunks of payments on random positions: a loan paid several
times, payoffs, refusals, partial payments, curtailments, escrow advanced, late
charges and fees owed, paying ahead and behind, balloon loans and changes of terms
(ARM resets, interest-only ends) across the installments paid. It declines (None) exactly the
payments that are not ordinary ones: payoffs and refusals, which the file
works out the reference way.
"""
from __future__ import annotations

import copy
from datetime import date, timedelta
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from hypothesis import assume, event, given, settings
from hypothesis import strategies as st

from ledger.domain.money import monthly_rate_amount
from servicing.domain.loan_terms import steps_from_json, terms_on
from servicing.domain.money_position import MoneyPosition
from servicing.domain.payment_batch import add_months
from servicing.errors import ServicingError
from servicing.events import LoanPaidOff, PaymentPosted, loan_fact
from servicing.models import LoanPosition
from servicing.services.payment_requests import payment_terms
from servicing.services.payments import ordinary_payment_worked_out, payment_worked_out

FIELDS = [f.attname for f in LoanPosition._meta.concrete_fields]


@st.composite
def positions(draw, loan: str) -> LoanPosition:
    balance = draw(st.integers(1, 60_000_000))
    rate = Decimal(draw(st.integers(0, 150_000))) / Decimal(10_000)
    payment = monthly_rate_amount(balance, rate) + draw(st.integers(1, 400_000))
    position = LoanPosition(
        loan_id=loan, status="active", principal_balance_cents=balance, note_rate=rate, payment_pi_cents=payment,
        escrow_monthly_cents=draw(st.sampled_from([0, 25_000]) | st.integers(0, 120_000)),
        next_due_date=draw(st.dates(date(2024, 1, 1), date(2027, 12, 31))),
        last_payment_date=None,
        escrow_balance_cents=draw(st.sampled_from([0]) | st.integers(0, 600_000)),
        escrow_advance_cents=draw(st.sampled_from([0]) | st.integers(0, 300_000)),
        suspense_cents=draw(st.sampled_from([0]) | st.integers(0, 300_000)),
        late_charges_due_cents=draw(st.sampled_from([0]) | st.integers(0, 20_000)),
        fees_due_cents=draw(st.sampled_from([0]) | st.integers(0, 20_000)),
        delinquency_bucket="current", realized_loss_cents=0, stream_version=draw(st.integers(1, 50)), last_position=0,
    )
    # Loan products: a balloon's last installment within a few months, and changes of terms (an ARM's, the end
    # of interest only) before or after the next due date, as the fold of LoanTermsChanged keeps them.
    product = draw(st.sampled_from(["plain", "plain", "balloon", "changes", "balloon and changes"]))
    if "balloon" in product:
        position.balloon_due_date = add_months(position.next_due_date, draw(st.integers(0, 6)))
    if "changes" in product:
        steps: list = [[None, str(rate), payment]]
        for months in sorted(draw(st.sets(st.integers(-2, 8), min_size=1, max_size=2))):
            new_rate = Decimal(draw(st.integers(0, 150_000))) / Decimal(10_000)
            steps.append([add_months(position.next_due_date, months).isoformat(), str(new_rate),
                          monthly_rate_amount(balance, new_rate) + draw(st.integers(0, 400_000))])
        position.terms_changes = steps
        rate, payment = terms_on(steps_from_json(steps), position.next_due_date, rate, payment)
        position.note_rate, position.payment_pi_cents = rate, payment
    try:  # the terms a loan is boarded with: refused ones never reach a payment
        MoneyPosition(principal_balance_cents=balance, note_rate=rate, payment_pi_cents=payment,
                      escrow_monthly_cents=position.escrow_monthly_cents, next_due_date=position.next_due_date)
    except ValueError:
        assume(False)
    return position


payments = st.lists(st.tuples(
    st.integers(0, 2),  # which loan
    st.one_of(st.integers(1, 300_000), st.integers(1, 70_000_000), st.sampled_from([59_955, 84_955, 100_000])),
    st.integers(-40, 420),  # received so many days after the loan's next due date, as first read
), min_size=1, max_size=8)


def state(position: LoanPosition) -> tuple:
    return tuple(getattr(position, name) for name in FIELDS)


def folded(position: LoanPosition, events) -> LoanPosition:
    """The position after the events, as the import folds it (payment_files._position_after)."""
    after = copy.copy(position)
    for recorded in events:
        after = loan_fact(recorded).fold_into(after)
    after.stream_version += len(events)
    return after


def outcome(work_out, position: LoanPosition, request):
    try:
        return work_out(position, request)
    except ServicingError as refused:
        return str(refused)


@settings(max_examples=400, deadline=None)
@given(st.tuples(positions("L1"), positions("L2"), positions("L3")), payments)
def test_a_chunk_worked_out_by_the_batch_math_records_what_the_reference_records(loans, chunk):
    reference = {p.loan_id: p for p in loans}
    batch = {p.loan_id: copy.copy(p) for p in loans}
    first_due = {p.loan_id: p.next_due_date for p in loans}
    paid: dict[str, bool] = {}
    for n, (which, amount, days) in enumerate(chunk):
        loan = f"L{which + 1}"
        if reference[loan].is_closed:
            continue  # refused before any money math, the same way on both sides
        request = payment_terms(loan, amount, first_due[loan] + timedelta(days=days), f"R-{n}", False)
        expected = outcome(payment_worked_out, reference[loan], request)
        ordinary = ordinary_payment_worked_out(batch[loan], request)
        if ordinary is None:
            # Declined: a payoff or a refusal, which the file works out the reference way.
            got = outcome(payment_worked_out, batch[loan], request)
            assert isinstance(expected, str) or expected.events[0].event_type == LoanPaidOff.event_type
        else:
            got = ordinary
            assert not isinstance(expected, str) and expected.events[0].event_type == PaymentPosted.event_type
        event("refused" if isinstance(expected, str) else expected.events[0].event_type)
        if paid.get(loan):
            event("a loan's payment after another in the chunk")
        if isinstance(expected, str):
            assert got == expected  # refused in the same words
            continue
        assert got.events == expected.events  # type, payload, date, postings and idempotency key
        assert [e.postings for e in got.events] == [e.postings for e in expected.events]
        paid[loan] = True
        reference[loan] = folded(reference[loan], expected.events)
        batch[loan] = folded(batch[loan], got.events)
        assert state(batch[loan]) == state(reference[loan])


@given(st.dates(date(1990, 1, 1), date(2090, 12, 31)), st.integers(-30, 400))
def test_adding_months_is_relativedeltas(day, months):
    assert add_months(day, months) == day + relativedelta(months=months)


def test_an_ordinary_payment_on_the_seed_loan_is_taken_by_the_batch_math():
    # Sanity of the property above: the common case does go the batch way.
    position = LoanPosition(
        loan_id="L1", status="active", principal_balance_cents=10_000_000, note_rate=Decimal("6"),
        payment_pi_cents=59_955, escrow_monthly_cents=25_000, next_due_date=date(2026, 2, 1), stream_version=1,
        last_position=0)
    request = payment_terms("L1", 84_955, date(2026, 2, 3), "R-1", False)
    worked = ordinary_payment_worked_out(position, request)
    assert worked is not None and worked.events == payment_worked_out(position, request).events
