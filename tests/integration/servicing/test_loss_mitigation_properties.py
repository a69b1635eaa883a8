"""Property: any sequence of plan steps and payments keeps every cent, and the books replay.

Every cent received is applied (cash in the custodial account is what was received, less refunds and
returns, and each payment's parts sum to it: verify_ledger re-derives them); the deferred balance accrues
no interest (the payoff's interest is that of the interest-bearing balance alone); principal and deferred
principal equal their ledger accounts; a rebuild of the read models reproduces them.
"""
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from ledger.business_time import business_day
from ledger.models import Event
from ledger.projections import differences
from ledger.selectors import account_balance
from ledger.verification import verify
from servicing.domain import accounts
from servicing.domain.payoff_quotes import accrued_interest_cents, days_30_360
from servicing.errors import ServicingError
from servicing.models import LoanPosition
from servicing.services import loss_mitigation as lm
from servicing.services.payments import payment_post
from servicing.services.payoff import payoff_quote_get
from tests.actors import TESTS, payment_return
from tests.integration.servicing.tapes import SEED_ROW, board

L = "L001"
steps = st.lists(st.one_of(
    st.tuples(st.just("pay"), st.sampled_from([84_955, 70_000, 169_910, 20_000, 254_865]), st.integers(0, 40)),
    st.tuples(st.just("return"), st.integers(0, 20), st.integers(0, 10)),
    st.tuples(st.just("forbearance"), st.integers(1, 4), st.integers(0, 20)),
    st.tuples(st.just("forbearance_end"), st.sampled_from(lm.RESOLUTIONS), st.integers(0, 40)),
    st.tuples(st.just("defer"), st.just(0), st.integers(0, 20)),
    st.tuples(st.just("repayment"), st.integers(1, 4), st.integers(0, 20)),
    st.tuples(st.just("repayment_end"), st.just(0), st.integers(0, 60)),
    st.tuples(st.just("trial"), st.integers(1, 3), st.integers(0, 20)),
    st.tuples(st.just("trial_end"), st.just(0), st.integers(0, 60)),
    st.tuples(st.just("kept_trial"), st.integers(1, 3), st.integers(0, 20)),
    st.tuples(st.just("modify"), st.integers(0, 500_000), st.integers(0, 10)),
), min_size=1, max_size=10)


def _step(step, n: int, day: date, posted: list) -> int:
    """Record the step; returns the cash it brought in. `posted`: the payments standing, updated."""
    kind, arg, _ = step
    loan = {"loan_number": L, "acting_user": TESTS}
    if kind == "pay":
        result = payment_post(amount_cents=arg, received_on=day, reference=f"P{n}", **loan)
        posted.append((f"P{n}", arg))
        return arg - (result.refund_event.payload["refund_cents"] if result.refund_event else 0)
    if kind == "kept_trial":  # a trial started, its payments made on their due dates, ended kept
        started = lm.trial_start(started_on=day, months=arg, payment_cents=70_000, **loan)
        cash = 0
        for k, due in enumerate(started.payload["due_dates"]):
            cash += _step(("pay", 70_000, 0), n * 100 + k, date.fromisoformat(due), posted)
        last = date.fromisoformat(started.payload["due_dates"][-1])
        lm.trial_end(ended_on=last, **loan)
        if arg > 1:  # and modified, with some principal set aside and forgiven
            _step(("modify", 30_000 * arg, 0), n, last + timedelta(days=1), posted)
        return cash
    if kind == "return":
        if not posted:
            return 0
        reference, amount = posted.pop(arg % len(posted))
        payment_return(loan_number=L, reference=reference, returned_on=day, reason="NSF", fee_cents=0)
        return -amount
    calls = {
        "forbearance": lambda: lm.forbearance_start(started_on=day, months=arg, **loan),
        "forbearance_end": lambda: lm.forbearance_end(ended_on=day, resolution=arg, repayment_months=(
            2 if arg == "repayment_plan" else None), **loan),
        "defer": lambda: lm.payment_defer(deferred_on=day, **loan),
        "repayment": lambda: lm.repayment_plan_start(started_on=day, months=arg, **loan),
        "repayment_end": lambda: lm.repayment_plan_end(ended_on=day, **loan),
        "trial": lambda: lm.trial_start(started_on=day, months=arg, payment_cents=70_000, **loan),
        "trial_end": lambda: lm.trial_end(ended_on=day, **loan),
        "modify": lambda: lm.loan_modify(terms=lm.ModificationTerms(
            day, Decimal("4.5"), 360, _next_first(day), principal_forbearance_cents=arg,
            forgiven_cents=arg // 10), **loan),
    }
    calls[kind]()
    return 0


def _next_first(day: date) -> date:
    position = LoanPosition.objects.get(loan_id=L)
    first = date(day.year + (day.month == 12), day.month % 12 + 1, position.next_due_date.day)
    return max(first, position.next_due_date)


@pytest.mark.django_db
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps)
def test_plan_steps_and_payments_keep_every_cent_and_replay(sequence):
    with business_day(date(2029, 12, 31)), transaction.atomic():
        board(SEED_ROW)
        day, cash, posted = date(2026, 2, 1), 0, []
        for n, step in enumerate(sequence):
            day += timedelta(days=step[2])
            count = Event.objects.count()
            try:
                standing = list(posted)
                with transaction.atomic():  # a step of several calls (kept_trial) is refused as a whole
                    cash += _step(step, n, day, standing)
                posted[:] = standing
                event(step[0])
            except ServicingError as refused:
                event(f"refused {step[0]}")
                assert Event.objects.count() == count, refused  # a refusal writes nothing
        position = LoanPosition.objects.get(loan_id=L)
        assert account_balance(accounts.CUSTODIAL_CASH) == cash
        assert account_balance(accounts.principal(L)) == position.principal_balance_cents
        assert account_balance(accounts.deferred_principal(L)) == position.deferred_principal_cents
        if not position.is_closed:
            quote = payoff_quote_get(loan_number=L, as_of=day)
            days = days_30_360(start=quote.accrual_start, end=day)
            assert quote.interest_cents == accrued_interest_cents(
                principal_cents=position.principal_balance_cents, note_rate=position.note_rate, days=days)
            assert quote.deferred_principal_cents == position.deferred_principal_cents
        assert differences() == []
        report = verify()
        assert report.ok, report.problems
        transaction.set_rollback(True)
