"""Property: whatever the removal date, the next trust's cut-off and the dates of a loan's payments and
returns, each collection of the loan is counted by at most one trust, and by the one whose pool held
the loan on the date of the money.
"""
from datetime import date, timedelta

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.models import Event
from ledger.selectors import account_balance
from remittance.selectors.period_facts import Window, log_head, window_sums
from servicing.domain import accounts
from servicing.models import CollectionLine
from servicing.services.payment_requests import PaymentRefused
from servicing.services.payments import payment_post
from tests.actors import payment_return, TESTS
from tests.integration.servicing.tapes import board, seed_rows
from tests.integration.trusts.deals import TRUST, form, seed_deal
from trusts.errors import DealRejected
from trusts.models import PoolLoan, Trust
from trusts.services.pool import pool_loan_remove

JAN15 = date(2026, 1, 15)
days = st.integers(1, 100)  # days after Jan 15


def _day(offset: int) -> date:
    return JAN15 + timedelta(days=offset)


@pytest.mark.django_db
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(removal=st.integers(1, 60), cutoff=st.integers(-20, 30), before=st.lists(st.integers(1, 60), min_size=1,
       max_size=3), after=st.lists(days, max_size=3))
def test_each_collection_is_counted_by_the_one_trust_that_held_the_loan(removal, cutoff, before, after):
    with transaction.atomic():
        board(*seed_rows(3))
        form(seed_deal(loans=["L001", "L002"], holders=[],
                       classes=[{"name": "A", "face": "200000.00", "coupon": "net-wac"}]))
        removed_on = _day(removal)
        for n, offset in enumerate(sorted(o for o in before if o <= removal)):
            payment_post(loan_number="L001", amount_cents=84_955, received_on=_day(offset), reference=f"B{n}",
                         acting_user=TESTS)
        pool_loan_remove(trust_code=TRUST, loan_number="L001", removed_on=removed_on, kind="repurchase",
                         reason="breach", acting_user=TESTS)
        other = _second_trust(removed_on + timedelta(days=cutoff), removed_on)
        for n, offset in enumerate(sorted(after)):
            try:
                payment_post(loan_number="L001", amount_cents=84_955, received_on=_day(offset), reference=f"A{n}",
                             acting_user=TESTS)
            except PaymentRefused as refused:
                assert _day(offset) <= other.cutoff_date and "settled with the seller" in str(refused)
        if Event.objects.filter(idempotency_key="payment:B0").exists():  # returned after the move
            payment_return(loan_number="L001", reference="B0", returned_on=_day(101), reason="NSF", fee_cents=0)
        _assert_counted_once()
        transaction.set_rollback(True)


def _second_trust(cutoff_date: date, removed_on: date) -> Trust:
    """The second trust at `cutoff_date` if it may be formed then (not before the removal), else at the removal."""
    if cutoff_date < removed_on:
        count = Event.objects.count()
        with pytest.raises(DealRejected, match=f"loan L001 was in trust {TRUST} until its removal"):
            _form_second(cutoff_date)
        assert Event.objects.count() == count
        cutoff_date = removed_on
    return _form_second(cutoff_date)


def _form_second(cutoff_date: date) -> Trust:
    # A cut-off before boarding takes the boarded balance, as forming does.
    pool = sum(account_balance(accounts.principal(n), as_of=cutoff_date) if cutoff_date >= JAN15 else 10_000_000
               for n in ("L001", "L003"))
    return form(seed_deal(code="ABC-2026-2", cutoff_date=cutoff_date.isoformat(),
                          closing_date=cutoff_date.isoformat(), first_payment_date="2026-06-25",
                          loans=["L001", "L003"], holders=[],
                          classes=[{"name": "A", "face": f"{pool // 100}.{pool % 100:02d}", "coupon": "net-wac",
                                    "denomination": "0.01"}]))


def _assert_counted_once() -> None:
    everything = Window(date(2099, 12, 31), log_head(), date(1900, 1, 1), 0)
    memberships = list(PoolLoan.objects.filter(loan_id="L001"))
    received = {e.position: date.fromisoformat(e.payload["received_on"])
                for e in Event.objects.filter(event_type="PaymentReturned")}
    expected = {m.trust_id: 0 for m in memberships}
    for line in CollectionLine.objects.filter(loan_id="L001"):
        money_date = received.get(line.event_position, line.effective_date)
        owners = [m.trust_id for m in memberships if m.covers(money_date)]
        assert len(owners) <= 1, f"{line} belongs to {owners}"
        for owner in owners:
            expected[owner] += line.interest_cents
    counted = {m.trust_id: window_sums(m.trust, everything).get("L001", {}).get("interest_cents", 0)
               for m in memberships}
    assert counted == expected
