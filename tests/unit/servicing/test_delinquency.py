"""MBA delinquency aging across month ends (February included) and late charges."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from servicing.domain.delinquency_status import MBA_BUCKETS, days_delinquent, late_charge_cents, late_charge_due, mba_bucket


@pytest.mark.parametrize(
    ("as_of", "days"),
    [(date(2025, 12, 20), 0), (date(2026, 1, 1), 0), (date(2026, 1, 2), 1), (date(2026, 2, 5), 35), (date(2026, 4, 1), 90)],
)
def test_days_delinquent_counts_calendar_days_past_the_oldest_unpaid_due_date(as_of, days):
    assert days_delinquent(next_due_date=date(2026, 1, 1), as_of=as_of) == days


@pytest.mark.parametrize(
    ("next_due", "as_of", "bucket"),
    [
        # Due January 1, 2026: "30" at the close of January 31, "60" of February 28, "90+" of March 31.
        (date(2026, 1, 1), date(2025, 12, 15), "current"),
        (date(2026, 1, 1), date(2026, 1, 1), "current"),
        (date(2026, 1, 1), date(2026, 1, 30), "current"),
        (date(2026, 1, 1), date(2026, 1, 31), "30"),
        (date(2026, 1, 1), date(2026, 2, 27), "30"),
        (date(2026, 1, 1), date(2026, 2, 28), "60"),
        (date(2026, 1, 1), date(2026, 3, 30), "60"),
        (date(2026, 1, 1), date(2026, 3, 31), "90+"),
        (date(2026, 1, 1), date(2027, 6, 30), "90+"),
        # Due February 1 in a common year: "30" on February 28 although only 27 days have passed.
        (date(2026, 2, 1), date(2026, 2, 27), "current"),
        (date(2026, 2, 1), date(2026, 2, 28), "30"),
        (date(2026, 2, 1), date(2026, 3, 30), "30"),
        (date(2026, 2, 1), date(2026, 3, 31), "60"),
        (date(2026, 2, 1), date(2026, 4, 30), "90+"),
        # Leap year: February has 29 days.
        (date(2024, 2, 1), date(2024, 2, 28), "current"),
        (date(2024, 2, 1), date(2024, 2, 29), "30"),
        (date(2024, 1, 1), date(2024, 2, 28), "30"),
        (date(2024, 1, 1), date(2024, 2, 29), "60"),
        # Across a year end.
        (date(2025, 12, 1), date(2025, 12, 31), "30"),
        (date(2025, 12, 1), date(2026, 1, 30), "30"),
        (date(2025, 12, 1), date(2026, 1, 31), "60"),
        (date(2025, 12, 1), date(2026, 2, 28), "90+"),
    ],
)
def test_mba_bucket(next_due, as_of, bucket):
    assert mba_bucket(next_due_date=next_due, as_of=as_of) == bucket


def test_mba_days_and_buckets_differ_in_february():
    assert days_delinquent(next_due_date=date(2026, 2, 1), as_of=date(2026, 2, 28)) == 27
    assert mba_bucket(next_due_date=date(2026, 2, 1), as_of=date(2026, 2, 28)) == "30"


due_dates = st.dates(min_value=date(2000, 1, 1), max_value=date(2060, 12, 1)).map(lambda d: d.replace(day=1))


@given(next_due=due_dates, first=st.integers(min_value=-60, max_value=200), later=st.integers(min_value=0, max_value=200))
def test_a_loan_never_gets_less_delinquent_while_unpaid(next_due, first, later):
    earlier = mba_bucket(next_due_date=next_due, as_of=next_due + timedelta(days=first))
    then = mba_bucket(next_due_date=next_due, as_of=next_due + timedelta(days=first + later))
    assert MBA_BUCKETS.index(earlier) <= MBA_BUCKETS.index(then)


@given(next_due=due_dates)
def test_a_loan_turns_30_on_the_last_day_of_the_month_it_was_due(next_due):
    month_end = (next_due + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    assert mba_bucket(next_due_date=next_due, as_of=month_end - timedelta(days=1)) == "current"
    assert mba_bucket(next_due_date=next_due, as_of=month_end) == "30"


def test_late_charge_is_five_percent_of_principal_and_interest_half_up():
    assert late_charge_cents(payment_pi_cents=59_955) == 2_998  # 29.9775
    assert late_charge_cents(payment_pi_cents=10) == 1  # half a cent rounds up
    assert late_charge_cents(payment_pi_cents=152_999, rate_percent=Decimal("4")) == 6_120  # 61.1996
    assert late_charge_cents(payment_pi_cents=0) == 0


@pytest.mark.parametrize(
    "kwargs",
    [{"payment_pi_cents": -1}, {"payment_pi_cents": 599.55}, {"rate_percent": 5.0}, {"rate_percent": Decimal("-1")}],
)
def test_impossible_late_charges_are_refused(kwargs):
    with pytest.raises(ValueError):
        late_charge_cents(**({"payment_pi_cents": 59_955} | kwargs))


def test_late_charge_is_owed_from_the_day_after_the_grace_period():
    due = date(2026, 1, 1)
    assert not late_charge_due(due_date=due, as_of=date(2026, 1, 16))
    assert late_charge_due(due_date=due, as_of=date(2026, 1, 17))
    assert not late_charge_due(due_date=date(2026, 2, 1), as_of=date(2026, 2, 16))
    assert late_charge_due(due_date=date(2026, 2, 1), as_of=date(2026, 2, 17))
    assert late_charge_due(due_date=due, as_of=date(2026, 1, 2), grace_days=0)
    assert not late_charge_due(due_date=due, as_of=date(2026, 1, 10), grace_days=10)


@pytest.mark.parametrize("grace_days", [-1, 1.5, "15"])
def test_impossible_grace_periods_are_refused(grace_days):
    with pytest.raises(ValueError, match="grace_days"):
        late_charge_due(due_date=date(2026, 1, 1), as_of=date(2026, 1, 20), grace_days=grace_days)


def test_dates_must_be_dates():
    with pytest.raises(ValueError, match="as_of"):
        mba_bucket(next_due_date=date(2026, 1, 1), as_of=datetime(2026, 2, 1, 8, 0))
    with pytest.raises(ValueError, match="next_due_date"):
        days_delinquent(next_due_date="2026-01-01", as_of=date(2026, 2, 1))
