"""From the standard's full-precision months to the cents that get paid, one repline at a time.

The projection keeps full precision (SF-3); money is rounded where it is
paid, as a servicer would collect it:
- interest is the month's rate on the balance earning interest, in cents,
  by `ledger.domain.money.monthly_rate_amount`, the very function the servicing
  uses on a loan's balance;
- scheduled principal is the month's scheduled P&I payment rounded to the
  cent, less that interest, split by the servicing's own `scheduled_split`,
  so a loan paying its contractual installment splits it exactly as the
  servicing does;
- prepayments, recoveries, losses and defaults are rounded half up, by
  `to_cents`: the one place the projection's floats become cents, rounding
  the float's exact value with ledger.domain.money's one rounding of money (half
  up, as the close rounds), so a balance projected from cents comes back to
  the same cents;
- the balance rolls forward in cents, every part is capped by what is left,
  and the month in which the projection's balance is gone clears whatever
  cents remain as scheduled principal.
So the cents balance tracks the full-precision one to within the rounding
of the interest (a few cents over a 30-year pool), and every month's parts
add up exactly: begin = scheduled + prepayment + recovery + loss + end.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from analytics.domain.collateral import StandardMonth
from ledger.domain.money import round_ratio_half_up
from servicing.domain.amortization import scheduled_split

HALF_CENT = 0.005  # dollars: a full-precision balance below it is gone


@dataclass(frozen=True, slots=True, kw_only=True)
class PaidMonth:
    """One repline's month as paid, in cents, with the rates that produced it."""

    name: str                       # the repline's (a trust's loan number)
    period: int
    balance_begin_cents: int
    interest_bearing_cents: int     # the part of the balance whose interest is collected (or advanced)
    payment_cents: int              # the scheduled P&I on that part
    interest_cents: int             # at the gross rate
    scheduled_principal_cents: int
    prepayment_cents: int
    default_cents: int              # new defaults (not cash: the balance that stopped paying)
    recovery_cents: int
    loss_cents: int
    balance_end_cents: int
    smm: float
    prepayment_base: float          # full precision: the balance the SMM applied to, for pool-level rates

    @property
    def principal_cents(self) -> int:
        return self.scheduled_principal_cents + self.prepayment_cents + self.recovery_cents


def to_cents(dollars: float) -> int:
    """Dollars in full precision to whole cents, half up.

    float.as_integer_ratio() is the float's exact binary value, so the only
    rounding is the one to the cent (round() would round half to even, after
    a float multiplication that rounds first).
    """
    numerator, denominator = float(dollars).as_integer_ratio()
    return round_ratio_half_up(numerator * 100, denominator)


def paid_months(months: Sequence[StandardMonth], *, balance_cents: int, gross_wac: Decimal,
                name: str = "") -> list[PaidMonth]:
    """The repline's months in cents, starting from its balance in cents."""
    paid, balance = [], balance_cents
    for month in months:
        cents = _paid(name, month, balance, gross_wac)
        paid.append(cents)
        balance = cents.balance_end_cents
    return paid


def _paid(name: str, month: StandardMonth, balance: int, gross_wac: Decimal) -> PaidMonth:
    not_bearing = _capped(to_cents(month.balance_begin - month.interest_bearing_balance), balance)
    bearing = balance - not_bearing
    payment = to_cents(month.scheduled_principal + month.gross_interest)
    # Idle months (before a loan's first installment) and 0% loans collect no interest.
    rate = gross_wac if month.gross_interest > 0 else Decimal(0)
    interest, scheduled = scheduled_split(balance_cents=bearing, note_rate=rate, payment_cents=payment)
    prepaid = _capped(to_cents(month.voluntary_prepayments), bearing - scheduled)
    left = balance - scheduled - prepaid
    recovered = _capped(to_cents(month.principal_recovery), left)
    lost = _capped(to_cents(month.principal_loss), left - recovered)
    end = left - recovered - lost
    if month.balance_end < HALF_CENT:
        # The pool is gone: the cents the rounding left behind go with the last scheduled principal.
        scheduled, end = scheduled + end, 0
    return PaidMonth(
        name=name, period=month.period, balance_begin_cents=balance, interest_bearing_cents=bearing, payment_cents=payment,
        interest_cents=interest, scheduled_principal_cents=scheduled, prepayment_cents=prepaid,
        default_cents=to_cents(month.new_defaults), recovery_cents=recovered, loss_cents=lost,
        balance_end_cents=end, smm=month.smm, prepayment_base=month.prepayment_base,
    )


def _capped(cents: int, limit: int) -> int:
    return max(0, min(cents, limit))
