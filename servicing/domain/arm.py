"""Adjustable-rate mortgages: when the rate changes, to what, and when the borrower must be told.

Pure functions over values; rates are Decimal annual percents (Decimal("6.125")).

Conventions (docs/DOMAIN.md, "ARM conventions"):
- Change dates. The first `first_change_months` installments are at the initial
  rate; installment number first_change_months + 1 is the first at a new rate,
  then every `change_every_months` installments. Interest is paid in arrears, so
  the rate of an installment is the rate in force over the month before its due
  date: the change date is one month before that first installment.
- The index value used is the one in effect `lookback_days` days before the change
  date: the latest value published on or before that day.
- New rate = index + margin, rounded (to the nearest 1/8%, up to the next 1/8%,
  or not at all: then to the 4 decimals a rate is kept with), then limited: by
  the first cap at the first change and the periodic cap after it (up or down
  from the rate before the change), by the lifetime cap over the initial rate,
  and never below the floor.
- Notices (Regulation Z): 1026.20(c), 60 to 120 days before the first payment at
  the new level (every change); 1026.20(d), the initial notice, 210 to 240 days
  before the first payment at the first new level.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

from dateutil.relativedelta import relativedelta

INDEXES = {"SOFR30A": "30-day average SOFR", "CMT1Y": "1-year constant maturity Treasury"}
NEAREST_EIGHTH, UP_EIGHTH, NO_ROUNDING = "nearest_eighth", "up_eighth", "none"
ROUNDINGS = (NEAREST_EIGHTH, UP_EIGHTH, NO_ROUNDING)
RATE_PLACES = Decimal("0.0001")  # the places a note rate is kept with
MARGIN_PLACES = 3  # margins and caps are quoted to the thousandth of a percent (2.125)
EIGHTH = Decimal("0.125")
# Regulation Z windows, in days before the first payment at the new level.
NOTICE_20C = (120, 60)
NOTICE_20D = (240, 210)


class ArmRefused(ValueError):
    """ARM terms or an index value that cannot be used (the message names it)."""


@dataclass(frozen=True, slots=True)
class ArmTerms:
    """An ARM's note terms: its index, margin, rounding, look-back, change months, caps and floor."""

    index: str
    margin: Decimal
    rounding: str
    lookback_days: int
    first_change_months: int
    change_every_months: int
    first_cap: Decimal
    periodic_cap: Decimal
    lifetime_cap: Decimal
    floor: Decimal

    def check(self, *, term_months: int) -> None:
        if self.index not in INDEXES:
            raise ArmRefused(f"index {self.index[:20]!r} is not one we publish: {', '.join(INDEXES)}")
        if self.rounding not in ROUNDINGS:
            raise ArmRefused(f"rounding {self.rounding[:20]!r} must be one of {', '.join(ROUNDINGS)}")
        for name in ("margin", "first_cap", "periodic_cap", "lifetime_cap", "floor"):
            value = getattr(self, name)
            if not value.is_finite() or value < 0 or value > 30:
                raise ArmRefused(f"{name} {value} must be a percentage from 0 to 30")
            if value != value.quantize(Decimal(1).scaleb(-MARGIN_PLACES)):
                raise ArmRefused(f"{name} {value} has more than {MARGIN_PLACES} decimals")
        if not 0 <= self.lookback_days <= 120:
            raise ArmRefused(f"lookback_days {self.lookback_days} must be from 0 to 120")
        if not 1 <= self.first_change_months < term_months:
            raise ArmRefused(f"first_change_months {self.first_change_months} must be from 1 to below the term "
                             f"({term_months})")
        if not 1 <= self.change_every_months <= 120:
            raise ArmRefused(f"change_every_months {self.change_every_months} must be from 1 to 120")


@dataclass(frozen=True, slots=True)
class ChangeDate:
    """One scheduled rate change: the first installment at the new rate and the day the rate changes."""

    number: int  # 0 for the first change
    first_installment: int
    first_due_date: date
    change_date: date

    @property
    def is_first(self) -> bool:
        return self.number == 0


def change_dates(arm: ArmTerms, *, first_payment_date: date, term_months: int) -> list[ChangeDate]:
    """Every rate change of the loan, in order, up to its last installment."""
    found: list[ChangeDate] = []
    installment = arm.first_change_months + 1
    while installment <= term_months:
        due = first_payment_date + relativedelta(months=installment - 1)
        found.append(ChangeDate(len(found), installment, due, due - relativedelta(months=1)))
        installment += arm.change_every_months
    return found


def lookback_date(arm: ArmTerms, change_date: date) -> date:
    """The day whose index value in effect sets the rate of a change."""
    return change_date - timedelta(days=arm.lookback_days)


def round_rate(rate: Decimal, rounding: str) -> Decimal:
    """index + margin rounded as the note says: nearest 1/8% (halves up), up to 1/8%, or to 4 decimals."""
    if rounding == NEAREST_EIGHTH:
        return ((rate / EIGHTH).quantize(Decimal(1), rounding=ROUND_HALF_UP) * EIGHTH).quantize(RATE_PLACES)
    if rounding == UP_EIGHTH:
        return ((rate / EIGHTH).quantize(Decimal(1), rounding=ROUND_CEILING) * EIGHTH).quantize(RATE_PLACES)
    if rounding == NO_ROUNDING:
        return rate.quantize(RATE_PLACES, rounding=ROUND_HALF_UP)
    raise ArmRefused(f"rounding {rounding!r} must be one of {', '.join(ROUNDINGS)}")


@dataclass(frozen=True, slots=True)
class RateDecision:
    """How a change's rate was set: the fully indexed rate, rounded, then limited (and by what)."""

    fully_indexed_rate: Decimal
    rounded_rate: Decimal
    note_rate: Decimal
    limited_by: str  # "", "first_cap", "periodic_cap", "lifetime_cap" or "floor"


def adjusted_rate(arm: ArmTerms, *, index_value: Decimal, rate_before: Decimal, initial_rate: Decimal,
                  first: bool) -> RateDecision:
    """The note rate from a change on: index + margin, rounded, within the caps and above the floor."""
    fully_indexed = index_value + arm.margin
    rounded = round_rate(fully_indexed, arm.rounding)
    rate, limited_by = rounded, ""
    cap, cap_name = (arm.first_cap, "first_cap") if first else (arm.periodic_cap, "periodic_cap")
    if rate > rate_before + cap:
        rate, limited_by = rate_before + cap, cap_name
    elif rate < rate_before - cap:
        rate, limited_by = rate_before - cap, cap_name
    if rate > initial_rate + arm.lifetime_cap:
        rate, limited_by = initial_rate + arm.lifetime_cap, "lifetime_cap"
    if rate < arm.floor:
        rate, limited_by = arm.floor, "floor"
    return RateDecision(fully_indexed, rounded, max(rate, Decimal(0)).quantize(RATE_PLACES), limited_by)


@dataclass(frozen=True, slots=True)
class NoticeDates:
    """The Regulation Z windows of a change's notices (the initial one only for the first change)."""

    notice_from: date  # 1026.20(c)
    notice_by: date
    initial_notice_from: date | None = None  # 1026.20(d)
    initial_notice_by: date | None = None


def notice_dates(first_due_date: date, *, first: bool) -> NoticeDates:
    """The windows of the notices of a change whose first payment at the new level is due on `first_due_date`."""
    c_from, c_by = (first_due_date - timedelta(days=d) for d in NOTICE_20C)
    if not first:
        return NoticeDates(c_from, c_by)
    d_from, d_by = (first_due_date - timedelta(days=d) for d in NOTICE_20D)
    return NoticeDates(c_from, c_by, d_from, d_by)


def value_in_effect(values: dict[date, Decimal], on: date) -> tuple[date, Decimal] | None:
    """The latest (date, value) published on or before `on`, None when there is none."""
    dates = [d for d in values if d <= on]
    if not dates:
        return None
    latest = max(dates)
    return latest, values[latest]
