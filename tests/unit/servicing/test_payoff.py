"""Payoff quotes and settlements, and the 30/360 US day count they accrue on."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from servicing.domain.money_position import MoneyPosition
from servicing.domain.payoff_quotes import days_30_360, payoff_quote, settle_payoff
from tests.unit.servicing.loans import seed_loan




@pytest.mark.parametrize(
    ("start", "end", "days"),
    [
        (date(2026, 1, 1), date(2026, 2, 1), 30),
        (date(2026, 1, 1), date(2026, 1, 31), 30),  # end 31st kept: the start is not the 30th or 31st
        (date(2026, 1, 31), date(2026, 2, 1), 1),  # start 31st becomes 30th
        (date(2026, 1, 30), date(2026, 3, 31), 60),  # end 31st becomes 30th after a start on the 30th
        (date(2026, 1, 1), date(2026, 2, 28), 57),  # an end on the last of February stays the 28th
        (date(2026, 2, 28), date(2026, 3, 31), 30),  # start last of February becomes 30, then the 31st becomes 30
        (date(2026, 2, 28), date(2026, 3, 1), 1),
        (date(2024, 2, 28), date(2024, 3, 1), 3),  # not the last day of February in a leap year
        (date(2024, 2, 29), date(2024, 3, 1), 1),
        (date(2025, 2, 28), date(2026, 2, 28), 360),  # both last of February
        (date(2024, 2, 29), date(2025, 2, 28), 360),
        (date(2025, 12, 1), date(2026, 3, 10), 99),
        (date(2026, 1, 15), date(2026, 1, 15), 0),
        (date(2026, 2, 1), date(2026, 1, 1), -30),
    ],
)
def test_days_30_360_us(start, end, days):
    assert days_30_360(start=start, end=end) == days


dates = st.dates(min_value=date(2000, 1, 1), max_value=date(2060, 12, 31))


@given(start=dates, end=dates)
def test_days_30_360_is_antisymmetric(start, end):
    assert days_30_360(start=start, end=end) == -days_30_360(start=end, end=start)


@given(first=dates, months=st.integers(min_value=0, max_value=400))
def test_days_30_360_counts_thirty_a_month_between_firsts(first, months):
    start = first.replace(day=1)
    end_month = start.month - 1 + months
    end = date(start.year + end_month // 12, end_month % 12 + 1, 1)
    assert days_30_360(start=start, end=end) == 30 * months


def test_worked_example_mid_month_payoff():
    # $100,000 at 6%, February's installment unpaid, paid off January 15, 2026.
    position = seed_loan(
        late_charges_due_cents=2_998, fees_due_cents=1_500, escrow_balance_cents=123_456, suspense_cents=10_000
    )
    quote = payoff_quote(position=position, as_of=date(2026, 1, 15))
    assert quote.accrual_start == date(2026, 1, 1)
    assert quote.interest_days == 14
    assert quote.per_diem_interest.quantize(Decimal("0.0001")) == Decimal("1666.6667")  # cents a day, unrounded
    assert quote.interest_cents == 23_333  # 14 * 16.6666.. dollars = 233.33
    assert quote.principal_cents == 10_000_000
    assert (quote.late_charges_cents, quote.fees_cents) == (2_998, 1_500)
    assert (quote.escrow_refund_cents, quote.suspense_credit_cents) == (123_456, 10_000)
    assert quote.total_cents == 10_000_000 + 23_333 + 2_998 + 1_500 - 123_456 - 10_000 == 9_894_375
    assert quote.amount_due_cents == 9_894_375 and quote.refund_due_cents == 0


def test_a_full_thirty_day_month_accrues_exactly_the_scheduled_interest():
    assert payoff_quote(position=seed_loan(), as_of=date(2026, 2, 1)).interest_cents == 50_000


def test_a_delinquent_loan_accrues_from_the_start_of_its_oldest_unpaid_period():
    quote = payoff_quote(position=seed_loan(next_due_date=date(2026, 1, 1)), as_of=date(2026, 3, 10))
    assert quote.accrual_start == date(2025, 12, 1)
    assert quote.interest_days == 99
    assert quote.interest_cents == 165_000


def test_a_loan_paid_ahead_gets_the_interest_it_prepaid_back_as_a_credit():
    # March's installment paid in January: interest through February 28 already paid, payoff on February 20.
    quote = payoff_quote(position=seed_loan(next_due_date=date(2026, 4, 1)), as_of=date(2026, 2, 20))
    assert quote.accrual_start == date(2026, 3, 1)
    assert quote.interest_days == -11
    assert quote.interest_cents == -18_333
    assert quote.total_cents == 10_000_000 - 18_333


def test_interest_is_rounded_half_up_once_on_the_total():
    # 30.00 at 6% for one day is exactly half a cent.
    position = seed_loan(principal_balance_cents=3_000)
    assert payoff_quote(position=position, as_of=date(2026, 1, 2)).interest_cents == 1
    assert payoff_quote(position=position, as_of=date(2026, 1, 4)).interest_cents == 2  # 1.5 cents, not 3 * 1


def test_escrow_and_suspense_above_the_debt_are_owed_to_the_borrower():
    position = seed_loan(principal_balance_cents=100_000, escrow_balance_cents=300_000, suspense_cents=5_000)
    quote = payoff_quote(position=position, as_of=date(2026, 1, 31))
    assert quote.total_cents == 100_000 + 500 - 300_000 - 5_000
    assert quote.amount_due_cents == 0
    assert quote.refund_due_cents == 204_500
    settlement = settle_payoff(position=position, amount_cents=0, as_of=date(2026, 1, 31))
    assert settlement.refund_to_borrower_cents == 204_500


def test_settlement_of_the_exact_payoff():
    position = seed_loan(late_charges_due_cents=2_998, fees_due_cents=1_500, escrow_balance_cents=123_456)
    settlement = settle_payoff(position=position, amount_cents=9_904_375, as_of=date(2026, 1, 15))
    assert settlement.principal_cents == 10_000_000
    assert settlement.interest_cents == 23_333
    assert (settlement.late_charges_cents, settlement.fees_cents) == (2_998, 1_500)
    assert settlement.escrow_applied_cents == 123_456
    assert settlement.suspense_applied_cents == 0
    assert settlement.refund_to_borrower_cents == 0


def test_money_above_the_payoff_is_refunded_not_kept():
    settlement = settle_payoff(position=seed_loan(), amount_cents=10_023_333 + 777, as_of=date(2026, 1, 15))
    assert settlement.refund_to_borrower_cents == 777


def test_money_short_of_the_payoff_is_not_a_payoff():
    with pytest.raises(ValueError, match="1 cents short"):
        settle_payoff(position=seed_loan(), amount_cents=10_023_332, as_of=date(2026, 1, 15))


@pytest.mark.parametrize("amount", [-1, 100.0, Decimal("1")])
def test_impossible_payoff_amounts_are_refused(amount):
    with pytest.raises(ValueError, match="amount_cents"):
        settle_payoff(position=seed_loan(), amount_cents=amount, as_of=date(2026, 1, 15))


def test_a_timestamp_is_not_a_payoff_date():
    with pytest.raises(ValueError, match="as_of"):
        payoff_quote(position=seed_loan(), as_of=datetime(2026, 1, 15, 9, 30))


@st.composite
def positions(draw) -> MoneyPosition:
    balance = draw(st.integers(min_value=0, max_value=10**9))
    rate = Decimal(draw(st.integers(min_value=0, max_value=12_000))).scaleb(-3)
    return MoneyPosition(
        principal_balance_cents=balance,
        note_rate=rate,
        payment_pi_cents=balance + 1,  # always covers the interest; the payoff does not use it
        escrow_monthly_cents=draw(st.integers(min_value=0, max_value=100_000)),
        next_due_date=date(2025, 1, 1) + timedelta(days=31 * draw(st.integers(min_value=0, max_value=30))),
        suspense_cents=draw(st.integers(min_value=0, max_value=100_000)),
        late_charges_due_cents=draw(st.integers(min_value=0, max_value=20_000)),
        fees_due_cents=draw(st.integers(min_value=0, max_value=20_000)),
        escrow_balance_cents=draw(st.integers(min_value=0, max_value=2_000_000)),
    )


@given(position=positions(), as_of=st.dates(min_value=date(2024, 1, 1), max_value=date(2028, 12, 31)),
       extra=st.integers(min_value=0, max_value=10**7))
def test_a_settlement_accounts_for_every_cent_of_the_cash(position, as_of, extra):
    quote = payoff_quote(position=position, as_of=as_of)
    amount = max(quote.total_cents, 0) + extra
    settlement = settle_payoff(position=position, amount_cents=amount, as_of=as_of)
    assert (
        settlement.principal_cents + settlement.interest_cents + settlement.late_charges_cents + settlement.fees_cents
        + settlement.refund_to_borrower_cents - settlement.escrow_applied_cents - settlement.suspense_applied_cents
        == amount
    )
    assert settlement.refund_to_borrower_cents >= 0
    assert settlement.refund_to_borrower_cents == amount - quote.total_cents
    assert quote.amount_due_cents - quote.refund_due_cents == quote.total_cents
