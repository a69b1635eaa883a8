"""Payoff: what it takes to pay a loan off on a given day, and how the cash is split.

Pure functions over a `servicing.domain.money_position.MoneyPosition`.

Interest is paid in arrears: the installment due on the 1st pays the
previous month's interest. So the unpaid accrual period starts one month
before `next_due_date` (the 1st of the previous month for loans due on the
1st) and runs to the payoff day on 30/360 (SIA "30/360 US", see
`days_30_360`). The per-diem is balance * rate / 36000 cents, kept exact;
the interest is rounded half-up once, on the total. A full 30-day month
therefore equals the month's scheduled interest.

If the loan is paid ahead (as_of before the accrual start), the day count
is negative and so is the interest: the borrower already paid interest for
days after the payoff and gets it back as a credit rather than losing it.

total = principal + interest + late charges + fees + deferred principal -
escrow balance - suspense. The deferred principal (a deferral's or a
modification's non-interest-bearing balance) is due at payoff and accrues
no interest: the per-diem is on the interest-bearing principal only. A total below zero means the servicer owes the borrower that much
(`refund_due_cents`).
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, localcontext

from dateutil.relativedelta import relativedelta

from ledger.domain.money import require_cents, round_half_up
from servicing.domain.arguments import require_date as _require_date
from servicing.domain.loan_terms import TermsStep, terms_on
from servicing.domain.money_position import MoneyPosition


@dataclass(frozen=True, slots=True)
class PayoffQuote:
    """The amount that pays a loan off on `as_of`, itemized."""

    as_of: date
    accrual_start: date
    interest_days: int
    per_diem_interest: Decimal  # cents a day, unrounded
    principal_cents: int
    interest_cents: int
    late_charges_cents: int
    fees_cents: int
    escrow_refund_cents: int  # escrow balance returned to the borrower, deducted from the payoff
    suspense_credit_cents: int  # unapplied funds already held, deducted from the payoff
    total_cents: int  # may be negative: then the borrower is owed money
    deferred_principal_cents: int = 0  # the non-interest-bearing balance, due now

    @property
    def amount_due_cents(self) -> int:
        """What the borrower must send (never negative)."""
        return max(self.total_cents, 0)

    @property
    def refund_due_cents(self) -> int:
        """What the servicer owes the borrower when escrow and suspense exceed the debt."""
        return max(-self.total_cents, 0)


@dataclass(frozen=True, slots=True)
class PayoffSettlement:
    """Cash received for a payoff, split. Identity:

    principal + interest + late charges + fees + deferred principal + refund_to_borrower
    - escrow_applied - suspense_applied == amount received.
    """

    as_of: date
    amount_cents: int
    principal_cents: int
    interest_cents: int
    late_charges_cents: int
    fees_cents: int
    escrow_applied_cents: int
    suspense_applied_cents: int
    refund_to_borrower_cents: int
    quote: PayoffQuote
    deferred_principal_cents: int = 0


def days_30_360(*, start: date, end: date) -> int:
    """Days from start to end on 30/360 US (SIA), negative when end is before start.

    The SIA rules (Standard Securities Calculation Methods; as in QuantLib's
    Thirty360 USA and Bloomberg BDE's SIA 30/360 eom), applied in order, each
    on the result of the previous one:
    1. start and end both the last day of February: end day becomes 30;
    2. start the last day of February: start day becomes 30;
    3. end day 31 and start day 30 or 31: end day becomes 30;
    4. start day 31: start day becomes 30.
    days = 360 * (Y2 - Y1) + 30 * (M2 - M1) + (D2 - D1).
    """
    _require_date("start", start)
    _require_date("end", end)
    if end < start:
        return -days_30_360(start=end, end=start)
    start_day, end_day = start.day, end.day
    if _is_last_day_of_february(start) and _is_last_day_of_february(end):
        end_day = 30
    if _is_last_day_of_february(start):
        start_day = 30
    if end_day == 31 and start_day >= 30:
        end_day = 30
    if start_day == 31:
        start_day = 30
    return 360 * (end.year - start.year) + 30 * (end.month - start.month) + (end_day - start_day)


def payoff_quote(*, position: MoneyPosition, as_of: date) -> PayoffQuote:
    """The itemized payoff amount good on `as_of`."""
    _require_date("as_of", as_of)
    accrual_start = position.next_due_date - relativedelta(months=1)
    days = days_30_360(start=accrual_start, end=as_of)
    yearly = Decimal(position.principal_balance_cents) * Decimal(position.note_rate)
    per_diem = yearly / Decimal(36000)  # for the quote's reader; the interest below does not use it
    interest = payoff_interest_cents(principal_cents=position.principal_balance_cents, note_rate=position.note_rate,
                                     timeline=position.terms_timeline, start=accrual_start, end=as_of)
    total = (
        position.principal_balance_cents + interest + position.late_charges_due_cents + position.fees_due_cents
        + position.deferred_principal_cents - position.escrow_balance_cents - position.suspense_cents
    )
    return PayoffQuote(
        as_of=as_of,
        accrual_start=accrual_start,
        interest_days=days,
        per_diem_interest=per_diem,
        principal_cents=position.principal_balance_cents,
        interest_cents=interest,
        late_charges_cents=position.late_charges_due_cents,
        fees_cents=position.fees_due_cents,
        escrow_refund_cents=position.escrow_balance_cents,
        suspense_credit_cents=position.suspense_cents,
        total_cents=total,
        deferred_principal_cents=position.deferred_principal_cents,
    )


def accrued_interest_cents(*, principal_cents: int, note_rate: Decimal, days: int) -> int:
    """The interest of a payoff: `days` (30/360) of interest on the principal, to the cent, half up."""
    yearly = Decimal(principal_cents) * Decimal(note_rate)
    with localcontext() as context:
        context.prec = 40
        # One division of the exact product: multiplying the rounded per-diem could turn a true half-cent
        # into 0.4999... and round it the wrong way.
        return round_half_up(yearly * days / Decimal(36000))


def payoff_interest_cents(*, principal_cents: int, note_rate: Decimal, timeline: tuple[TermsStep, ...],
                          start: date, end: date) -> int:
    """Interest from `start` to `end` (30/360), at the rate in force over each day: a change of terms starts a
    month before its first due date (interest is paid in arrears). Rounded half-up once, on the total."""
    changes = sorted({s.first_due_date - relativedelta(months=1) for s in timeline
                      if s.first_due_date is not None and start < s.first_due_date - relativedelta(months=1) < end})
    if not changes:
        return accrued_interest_cents(principal_cents=principal_cents, note_rate=note_rate,
                                      days=days_30_360(start=start, end=end))
    yearly_days, cursor = Decimal(0), start
    for point in (*changes, end):
        rate, _ = terms_on(timeline, cursor + relativedelta(months=1), note_rate, 0)
        yearly_days += Decimal(principal_cents) * rate * days_30_360(start=cursor, end=point)
        cursor = point
    with localcontext() as context:
        context.prec = 40
        return round_half_up(yearly_days / Decimal(36000))


def settle_payoff(*, position: MoneyPosition, amount_cents: int, as_of: date) -> PayoffSettlement:
    """Split payoff cash: the debt in full, escrow and suspense applied, everything above refunded.

    Cash short of the quote is refused: it is a payment, not a payoff.
    """
    require_cents(amount_cents, "amount_cents")
    quote = payoff_quote(position=position, as_of=as_of)
    if amount_cents < quote.total_cents:
        raise ValueError(
            f"{amount_cents} cents is {quote.total_cents - amount_cents} cents short of the payoff of "
            f"{quote.total_cents} cents on {as_of.isoformat()}; apply it as a payment instead"
        )
    return PayoffSettlement(
        as_of=as_of,
        amount_cents=amount_cents,
        principal_cents=quote.principal_cents,
        interest_cents=quote.interest_cents,
        late_charges_cents=quote.late_charges_cents,
        fees_cents=quote.fees_cents,
        escrow_applied_cents=quote.escrow_refund_cents,
        suspense_applied_cents=quote.suspense_credit_cents,
        # Everything above the payoff goes back: a negative quote adds what the servicer owes.
        refund_to_borrower_cents=amount_cents - quote.total_cents,
        quote=quote,
        deferred_principal_cents=quote.deferred_principal_cents,
    )


def _is_last_day_of_february(day: date) -> bool:
    return day.month == 2 and day.day == calendar.monthrange(day.year, 2)[1]
