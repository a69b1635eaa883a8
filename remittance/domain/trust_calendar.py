"""The trust calendar: collection periods, business days, record and payment dates.

A trust's collection period is a calendar month. Its record date is the
period's last business day; its payment date is the trust's payment day
(the 25th by default) of the following month, moved to the next business
day when it falls on a weekend or a bank holiday.

Business days are Monday to Friday except the holidays observed by the
Federal Reserve Banks (the `holidays` package's XFED calendar). The Fed
differs from the plain federal calendar (holidays.US) in one way that
matters here: a holiday falling on a Saturday is not observed on the
Friday before, so e.g. Friday 2021-12-31 and Friday 2026-07-03 are
business days. A holiday on a Sunday is observed on the Monday after.
"""
from __future__ import annotations

import calendar as _stdlib_calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

import holidays

# The Fed calendar in the holidays package starts here; before it the package
# would silently answer "no holidays", which would be a wrong answer.
FIRST_CALENDAR_YEAR = 1999
DEFAULT_PAYMENT_DAY = 25
# ASCII digits only: \d also matches "２" (fullwidth), which int() reads as 2, so "２０２６-02" would pass as 2026-02.
_PERIOD_TEXT = re.compile(r"([0-9]{4})-([0-9]{2})")
_SATURDAY = 5


@dataclass(frozen=True, slots=True, order=True)
class Period:
    """A collection period: one calendar month, written "2026-01"."""

    year: int
    month: int

    def __post_init__(self) -> None:
        for label, value in (("year", self.year), ("month", self.month)):
            if not isinstance(value, int) or isinstance(value, bool):
                raise ValueError(f"period {label} must be an int, not {value!r}")
        if not 1 <= self.year <= 9999 or not 1 <= self.month <= 12:
            raise ValueError(f"no such period: {self.year}-{self.month}")

    @classmethod
    def parse(cls, text: str) -> Period:
        """Read a period written as YYYY-MM ("2026-01")."""
        match = _PERIOD_TEXT.fullmatch(text.strip()) if isinstance(text, str) else None
        if match is None:
            raise ValueError(f"{text!r} is not a period; write it as YYYY-MM, e.g. 2026-01")
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def containing(cls, day: date) -> Period:
        """The period a date falls in."""
        return cls(day.year, day.month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    def next(self) -> Period:
        """The period after this one."""
        return Period(self.year + 1, 1) if self.month == 12 else Period(self.year, self.month + 1)

    def previous(self) -> Period:
        """The period before this one."""
        return Period(self.year - 1, 12) if self.month == 1 else Period(self.year, self.month - 1)

    @property
    def first_day(self) -> date:
        """The first calendar day of the period."""
        return date(self.year, self.month, 1)

    @property
    def last_day(self) -> date:
        """The last calendar day of the period."""
        return date(self.year, self.month, _stdlib_calendar.monthrange(self.year, self.month)[1])


@lru_cache(maxsize=None)
def _bank_holidays(year: int) -> frozenset[date]:
    # Built once per year and frozen, so lookups are pure and thread-safe
    # (a holidays object fills itself in lazily, mutating as it is read).
    if year < FIRST_CALENDAR_YEAR:
        raise ValueError(f"the bank holiday calendar starts in {FIRST_CALENDAR_YEAR}; {year} is not covered")
    return frozenset(holidays.financial_holidays("XFED", years=year).keys())


def is_bank_holiday(day: date) -> bool:
    """True if the Federal Reserve Banks are closed for a holiday on this day."""
    return day in _bank_holidays(day.year)


def is_business_day(day: date) -> bool:
    """True on Monday to Friday unless it is a Federal Reserve bank holiday."""
    return day.weekday() < _SATURDAY and not is_bank_holiday(day)


def next_business_day(day: date) -> date:
    """The first business day strictly after day."""
    day += timedelta(days=1)
    while not is_business_day(day):
        day += timedelta(days=1)
    return day


def previous_business_day(day: date) -> date:
    """The last business day strictly before day."""
    day -= timedelta(days=1)
    while not is_business_day(day):
        day -= timedelta(days=1)
    return day


def business_day_on_or_after(day: date) -> date:
    """day itself if it is a business day, else the next business day."""
    return day if is_business_day(day) else next_business_day(day)


def record_date(period: Period) -> date:
    """The last business day of the period: holders of record on it are paid."""
    last = period.last_day
    return last if is_business_day(last) else previous_business_day(last)


def payment_date(period: Period, *, payment_day: int = DEFAULT_PAYMENT_DAY) -> date:
    """The day holders are paid for the period.

    The payment day of the following month, clamped to that month's length
    (payment day 31 in April is 30 April), then moved to the next business
    day if needed, even when that is in the month after.
    """
    if not isinstance(payment_day, int) or isinstance(payment_day, bool) or not 1 <= payment_day <= 31:
        raise ValueError(f"payment_day must be a day of the month (1-31), not {payment_day!r}")
    paying = period.next()
    day = min(payment_day, paying.last_day.day)
    return business_day_on_or_after(date(paying.year, paying.month, day))


def first_collection_period(first_payment_date: date) -> Period:
    """A trust's first collection period: the month before its first payment date."""
    return Period.containing(first_payment_date).previous()


def period_number(first: Period, period: Period) -> int:
    """The index of `period` from a trust's first collection period `first` (1 for the first distribution)."""
    return (period.year - first.year) * 12 + (period.month - first.month) + 1
