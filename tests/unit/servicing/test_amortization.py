"""Level payment and amortization schedule: the seed's numbers, an independent reference, bad input."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.domain.money import monthly_rate_amount
from servicing.domain.amortization import (
    Installment, level_payment_cents, refuse_negative_amortization, schedule, scheduled_split,
)


def reference_payment_cents(principal_cents: int, rate_percent: Decimal, term_months: int) -> int:
    """The textbook formula in exact rational arithmetic, rounded half-up: an oracle independent of Decimal."""
    rate = Fraction(rate_percent) / 1200
    if rate == 0:
        exact = Fraction(principal_cents, term_months)
    else:
        exact = principal_cents * rate / (1 - (1 + rate) ** -term_months)
    return int(exact + Fraction(1, 2)) if exact >= 0 else -int(-exact + Fraction(1, 2))


rates = st.integers(min_value=0, max_value=15_000).map(lambda n: Decimal(n).scaleb(-3))
principals = st.integers(min_value=1, max_value=10**10)
terms = st.integers(min_value=1, max_value=480)


def test_seed_loan_pays_599_55_with_500_interest_and_99_55_principal_in_month_one():
    assert level_payment_cents(principal_cents=10_000_000, note_rate=Decimal("6"), term_months=360) == 59_955
    first = schedule(
        principal_cents=10_000_000, note_rate=Decimal("6"), term_months=360, first_payment_date=date(2026, 2, 1)
    )[0]
    assert first == Installment(
        number=1, due_date=date(2026, 2, 1), payment_cents=59_955, interest_cents=50_000,
        principal_cents=9_955, balance_cents_after=9_990_045,
    )


def test_fifteen_year_loan_pays_1529_99():
    # $200,000 at 4.5% over 15 years: 1,529.99 in published amortization tables; checked against the exact formula too.
    payment = level_payment_cents(principal_cents=20_000_000, note_rate=Decimal("4.5"), term_months=180)
    assert payment == 152_999
    assert payment == reference_payment_cents(20_000_000, Decimal("4.5"), 180)


@pytest.mark.parametrize(
    ("principal", "rate", "term"),
    [(10_000_000, Decimal("6"), 360), (20_000_000, Decimal("4.5"), 180), (35_000_000, Decimal("7.125"), 360)],
)
def test_schedule_principal_sums_to_the_loan_and_ends_at_zero(principal, rate, term):
    installments = schedule(
        principal_cents=principal, note_rate=rate, term_months=term, first_payment_date=date(2026, 1, 1)
    )
    level = level_payment_cents(principal_cents=principal, note_rate=rate, term_months=term)
    assert len(installments) == term
    assert sum(i.principal_cents for i in installments) == principal
    assert installments[-1].balance_cents_after == 0
    assert all(i.payment_cents == level for i in installments[:-1])
    last, before_last = installments[-1], installments[-2]
    assert last.payment_cents == last.interest_cents + before_last.balance_cents_after


def test_schedule_interest_is_each_month_on_the_balance_before_it():
    installments = schedule(
        principal_cents=20_000_000, note_rate=Decimal("4.5"), term_months=180, first_payment_date=date(2026, 1, 1)
    )
    balance = 20_000_000
    for installment in installments:
        assert installment.interest_cents == monthly_rate_amount(balance, Decimal("4.5"))
        assert installment.payment_cents == installment.interest_cents + installment.principal_cents
        balance -= installment.principal_cents
        assert installment.balance_cents_after == balance
    assert installments[0].interest_cents == 75_000


def test_due_dates_are_monthly_and_a_31st_does_not_drift():
    installments = schedule(
        principal_cents=1_000_000, note_rate=Decimal("5"), term_months=4, first_payment_date=date(2026, 1, 31)
    )
    assert [i.due_date for i in installments] == [
        date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30)
    ]
    assert [i.number for i in installments] == [1, 2, 3, 4]


def test_zero_rate_pays_principal_over_term_half_up_and_last_one_clears():
    assert level_payment_cents(principal_cents=100_000, note_rate=Decimal("0"), term_months=3) == 33_333
    # 25,000.5 cents rounds half-up.
    assert level_payment_cents(principal_cents=100_002, note_rate=Decimal("0"), term_months=4) == 25_001
    installments = schedule(
        principal_cents=100_000, note_rate=Decimal("0"), term_months=3, first_payment_date=date(2026, 1, 1)
    )
    assert [i.payment_cents for i in installments] == [33_333, 33_333, 33_334]
    assert all(i.interest_cents == 0 for i in installments)


def test_a_tiny_loan_that_rounding_pays_early_ends_at_the_installment_that_clears_it():
    # 10 cents over 12 months: 0.83 a month rounds to 1 cent, so the tenth cent clears it.
    installments = schedule(
        principal_cents=10, note_rate=Decimal("0"), term_months=12, first_payment_date=date(2026, 1, 1)
    )
    assert len(installments) == 10
    assert installments[-1].balance_cents_after == 0
    assert sum(i.principal_cents for i in installments) == 10


@given(principal=principals, rate=rates, term=terms)
def test_level_payment_matches_the_exact_formula(principal, rate, term):
    assert level_payment_cents(principal_cents=principal, note_rate=rate, term_months=term) == (
        reference_payment_cents(principal, rate, term)
    )


@given(principal=st.integers(min_value=1, max_value=10**9), rate=rates, term=terms)
def test_any_schedule_amortizes_exactly(principal, rate, term):
    installments = schedule(
        principal_cents=principal, note_rate=rate, term_months=term, first_payment_date=date(2026, 3, 1)
    )
    assert sum(i.principal_cents for i in installments) == principal
    assert installments[-1].balance_cents_after == 0
    assert all(i.principal_cents >= 0 and i.interest_cents >= 0 for i in installments)
    assert len(installments) <= term


def test_scheduled_split_on_a_balance():
    split = scheduled_split(balance_cents=10_000_000, note_rate=Decimal("6"), payment_cents=59_955)
    assert split == (50_000, 9_955)
    # Near the end the principal part is capped at what is owed.
    assert scheduled_split(balance_cents=1_000, note_rate=Decimal("6"), payment_cents=59_955) == (5, 1_000)
    assert scheduled_split(balance_cents=0, note_rate=Decimal("6"), payment_cents=59_955) == (0, 0)


def test_scheduled_split_schedules_no_principal_when_the_payment_is_below_the_interest():
    # The whole month's interest is scheduled; principal is clamped at zero rather than going negative.
    assert scheduled_split(balance_cents=10_000_000, note_rate=Decimal("6"), payment_cents=49_999) == (
        50_000, 0)


def test_a_loan_whose_payment_does_not_cover_the_interest_is_refused():
    with pytest.raises(ValueError, match="does not cover the month's interest"):
        refuse_negative_amortization(balance_cents=10_000_000, note_rate=Decimal("6"), payment_cents=49_999)
    refuse_negative_amortization(balance_cents=10_000_000, note_rate=Decimal("6"), payment_cents=50_000)


@given(balance=st.integers(0, 10**12), rate=st.decimals(min_value=0, max_value=20, places=4),
       payment=st.integers(0, 10**10))
def test_scheduled_split_principal_is_between_zero_and_the_balance(balance, rate, payment):
    interest, principal = scheduled_split(balance_cents=balance, note_rate=rate, payment_cents=payment)
    assert interest == monthly_rate_amount(balance, rate)
    assert 0 <= principal <= balance
    assert principal == min(max(payment - interest, 0), balance)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"principal_cents": -1},
        {"principal_cents": 0},
        {"principal_cents": 100.0},
        {"principal_cents": True},
        {"note_rate": 6.0},
        {"note_rate": Decimal("-0.5")},
        {"note_rate": Decimal("NaN")},
        {"note_rate": "6"},
        {"term_months": 0},
        {"term_months": -12},
        {"term_months": 360.0},
    ],
)
def test_impossible_loans_are_refused(kwargs):
    arguments = {"principal_cents": 10_000_000, "note_rate": Decimal("6"), "term_months": 360} | kwargs
    with pytest.raises(ValueError):
        level_payment_cents(**arguments)
    with pytest.raises(ValueError):
        schedule(**arguments, first_payment_date=date(2026, 1, 1))


def test_schedule_needs_a_date_not_a_timestamp():
    with pytest.raises(ValueError, match="first_payment_date"):
        schedule(
            principal_cents=10_000_000, note_rate=Decimal("6"), term_months=360,
            first_payment_date=datetime(2026, 1, 1, 12, 0),
        )


def test_arguments_are_keyword_only():
    with pytest.raises(TypeError):
        level_payment_cents(10_000_000, Decimal("6"), 360)  # type: ignore[misc]
