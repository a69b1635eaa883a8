"""Delinquency: how far behind a loan is (MBA method), and when a late charge is owed.

Pure functions of the loan's next (oldest unpaid) due date and a day.

The MBA method, as pooling and servicing agreements define it: a loan is
delinquent once a monthly payment "has not been received by the end of the
day immediately preceding the loan's next due date". For a payment due on
the 1st that is the last day of the month it was due: the loan due January 1
and unpaid is "30" at the close of January 31, "60" at the close of
February 28 (29 in a leap year), "90+" at the close of March 31. (The OTS
method, used in non-prime deals, waits until the close of the next due date
itself and so reports one month later; it is not implemented here.)

So the bucket counts months, not days: a payment due February 1 is "30" on
February 28 although only 27 days have passed. `days_delinquent` is the
calendar-day count that Regulation X's deadlines (day 36, day 45, day 120)
are measured in.
"""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from dateutil.relativedelta import relativedelta

from ledger.domain.money import require_cents, round_half_up
from servicing.domain.arguments import require_date as _require_date

# The one definition of the buckets, in order; the API's filter, the dashboard and the loans' column use them.
MBA_BUCKETS: tuple[str, ...] = ("current", "30", "60", "90+")
CURRENT = MBA_BUCKETS[0]


def days_delinquent(*, next_due_date: date, as_of: date) -> int:
    """Calendar days since the oldest unpaid due date; 0 while it has not passed."""
    _require_date("next_due_date", next_due_date)
    _require_date("as_of", as_of)
    return max((as_of - next_due_date).days, 0)


def mba_bucket(*, next_due_date: date, as_of: date) -> str:
    """The MBA delinquency bucket at the close of `as_of`: "current", "30", "60" or "90+"."""
    _require_date("next_due_date", next_due_date)
    _require_date("as_of", as_of)
    return MBA_BUCKETS[_months_delinquent(next_due_date=next_due_date, as_of=as_of, at_most=3)]


def late_charge_cents(*, payment_pi_cents: int, rate_percent: Decimal = Decimal("5")) -> int:
    """The late charge on one installment: a percentage of its principal and interest, half-up."""
    require_cents(payment_pi_cents, "payment_pi_cents")
    if not isinstance(rate_percent, Decimal) or not rate_percent.is_finite() or rate_percent < 0:
        raise ValueError(f"rate_percent must be a Decimal percentage of zero or more, got {rate_percent!r}")
    return round_half_up(Decimal(payment_pi_cents) * rate_percent / Decimal(100))


def late_charge_due(*, due_date: date, as_of: date, grace_days: int = 15) -> bool:
    """True once an installment due on `due_date` and still unpaid is past its grace period.

    The grace period runs through due_date + grace_days (January 16 for a
    January 1 installment with 15 days); the charge is owed from the day after.
    """
    _require_date("due_date", due_date)
    _require_date("as_of", as_of)
    if type(grace_days) is not int or grace_days < 0:
        raise ValueError(f"grace_days must be a whole number of days, zero or more, got {grace_days!r}")
    return as_of > due_date + timedelta(days=grace_days)


def _months_delinquent(*, next_due_date: date, as_of: date, at_most: int) -> int:
    """Monthly payments past the MBA cut-off (the day before the following due date), up to at_most."""
    months = 0
    # Missed payment k is counted once the k-th due date after next_due_date, less one day, has closed.
    while months < at_most and as_of >= next_due_date + relativedelta(months=months + 1) - timedelta(days=1):
        months += 1
    return months
