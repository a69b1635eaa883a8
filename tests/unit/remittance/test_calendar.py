"""The trust calendar on real dates: periods, Fed business days, record and payment dates."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from remittance.domain.trust_calendar import (
    Period,
    is_bank_holiday,
    is_business_day,
    next_business_day,
    payment_date,
    previous_business_day,
    record_date,
)

# ------------------------------------------------------------- periods


def test_period_parses_prints_and_steps():
    period = Period.parse("2026-01")
    assert period == Period(2026, 1)
    assert str(period) == "2026-01"
    assert period.next() == Period(2026, 2)
    assert period.previous() == Period(2025, 12)
    assert Period(2026, 12).next() == Period(2027, 1)
    assert (period.first_day, period.last_day) == (date(2026, 1, 1), date(2026, 1, 31))
    assert Period(2028, 2).last_day == date(2028, 2, 29)
    assert Period.containing(date(2026, 3, 17)) == Period(2026, 3)
    assert Period(2025, 12) < Period(2026, 1)


@pytest.mark.parametrize("text", ["2026-1", "2026-13", "2026-00", "26-01", "2026/01", "", "2026-01-01",
                                  "２０２６-01", "2026-０1", "٢٠٢٦-01"])
def test_period_refuses_bad_text(text):
    with pytest.raises(ValueError):
        Period.parse(text)


@given(st.integers(min_value=2, max_value=9998), st.integers(min_value=1, max_value=12))
def test_next_and_previous_are_inverse(year, month):
    period = Period(year, month)
    assert period.next().previous() == period
    assert Period.parse(str(period)) == period
    assert period.next().first_day == period.last_day + timedelta(days=1)


# --------------------------------------------------------- business days


def test_fed_holidays_and_weekends_are_not_business_days():
    assert not is_business_day(date(2026, 12, 25))  # Christmas, Friday
    assert not is_business_day(date(2027, 1, 1))  # New Year's Day, Friday
    assert not is_business_day(date(2026, 5, 25))  # Memorial Day
    assert not is_business_day(date(2026, 10, 12))  # Columbus Day: the Fed Banks close
    assert not is_business_day(date(2026, 11, 11))  # Veterans Day
    assert not is_business_day(date(2023, 1, 2))  # New Year's Day on a Sunday, observed Monday
    assert not is_business_day(date(2026, 1, 31))  # Saturday
    assert is_business_day(date(2026, 12, 24))


def test_fed_does_not_observe_saturday_holidays_on_the_friday_before():
    # holidays.US would call these Fridays observed holidays; the Fed Banks are open.
    assert is_business_day(date(2026, 7, 3))  # Independence Day 2026 is a Saturday
    assert is_business_day(date(2021, 12, 31))  # New Year's Day 2022 is a Saturday
    assert is_business_day(date(2027, 6, 18))  # Juneteenth 2027 is a Saturday
    assert not is_bank_holiday(date(2021, 12, 31))


def test_next_and_previous_business_day_are_strictly_after_and_before():
    assert next_business_day(date(2026, 12, 31)) == date(2027, 1, 4)  # over New Year's Day and a weekend
    assert next_business_day(date(2026, 12, 24)) == date(2026, 12, 28)  # over Christmas and a weekend
    assert previous_business_day(date(2026, 5, 26)) == date(2026, 5, 22)  # back over Memorial Day weekend
    assert next_business_day(date(2026, 3, 2)) == date(2026, 3, 3)  # a Monday goes to Tuesday


def test_dates_before_the_fed_calendar_are_refused_not_guessed():
    with pytest.raises(ValueError, match="calendar starts"):
        is_business_day(date(1998, 12, 25))


# ------------------------------------------------------------ record dates


@pytest.mark.parametrize(
    "period, expected",
    [
        ("2026-01", date(2026, 1, 30)),  # 31 January 2026 is a Saturday
        ("2026-05", date(2026, 5, 29)),  # 31 May 2026 is a Sunday
        ("2022-12", date(2022, 12, 30)),  # 31 December 2022 is a Saturday
        ("2021-12", date(2021, 12, 31)),  # Friday before a Saturday New Year: the Fed is open
        ("2026-03", date(2026, 3, 31)),  # a Tuesday
    ],
)
def test_record_date_is_the_last_business_day_of_the_period(period, expected):
    assert record_date(Period.parse(period)) == expected


# ----------------------------------------------------------- payment dates


@pytest.mark.parametrize(
    "period, payment_day, expected",
    [
        ("2026-01", 25, date(2026, 2, 25)),  # an ordinary Wednesday
        ("2026-11", 25, date(2026, 12, 28)),  # Christmas 2026 is a Friday, then a weekend
        ("2026-12", 25, date(2027, 1, 25)),  # a Monday: no move
        ("2026-12", 1, date(2027, 1, 4)),  # New Year's Day 2027 (Friday), then a weekend
        ("2022-12", 1, date(2023, 1, 3)),  # New Year's Day on Sunday, observed Monday 2 January
        ("2026-04", 25, date(2026, 5, 26)),  # Memorial Day 2026 falls on the 25th
        ("2026-03", 25, date(2026, 4, 27)),  # 25 April 2026 is a Saturday
        ("2025-12", 25, date(2026, 1, 26)),  # 25 January 2026 is a Sunday
        ("2026-03", 31, date(2026, 4, 30)),  # clamped to a 30-day month, a Thursday
        ("2026-01", 31, date(2026, 3, 2)),  # clamped to 28 February 2026, a Saturday: into March
        ("2026-09", 31, date(2026, 11, 2)),  # 31 October 2026 is a Saturday: into November
        ("2026-06", 4, date(2026, 7, 6)),  # 4 July 2026 is a Saturday: next Monday
    ],
)
def test_payment_date(period, payment_day, expected):
    assert payment_date(Period.parse(period), payment_day=payment_day) == expected


def test_payment_day_defaults_to_the_25th():
    assert payment_date(Period(2026, 11)) == date(2026, 12, 28)


@pytest.mark.parametrize("payment_day", [0, 32, -1, True])
def test_payment_day_must_be_a_day_of_the_month(payment_day):
    with pytest.raises(ValueError):
        payment_date(Period(2026, 1), payment_day=payment_day)


@given(
    st.integers(min_value=2000, max_value=2099),
    st.integers(min_value=1, max_value=12),
    st.integers(min_value=1, max_value=31),
)
def test_payment_date_is_a_business_day_after_the_record_date(year, month, payment_day):
    period = Period(year, month)
    paid = payment_date(period, payment_day=payment_day)
    assert is_business_day(paid)
    assert record_date(period) < paid
    assert is_business_day(record_date(period))
    assert period.first_day <= record_date(period) <= period.last_day
    # Moved forward at most past a weekend plus a holiday.
    nominal = min(payment_day, period.next().last_day.day)
    assert 0 <= (paid - period.next().first_day).days - (nominal - 1) <= 4
