"""Where a loan stands in its life on the trust calendar: installments due, age, months until it pays.

A loan's installments fall due monthly from its first payment date; the one
falling due in a collection period (a calendar month) is the one that
period collects. So a loan's age at the start of a period is the number of
installments due before it, and the standard's MONTH for the period (B.2 c)
is the number due by its end. Pure functions over dates.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from servicing.domain.amortization import scheduled_split


def month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


@dataclass(frozen=True, slots=True)
class LoanTiming:
    """age: installments due before the period; lead: periods before the first installment falls due."""

    age: int
    lead: int


def timing_at(first_payment_date: date, period_start: date) -> LoanTiming:
    """The loan's age and lead at the start of the period beginning on `period_start`."""
    gap = month_index(period_start) - month_index(first_payment_date)
    return LoanTiming(age=gap, lead=0) if gap >= 0 else LoanTiming(age=0, lead=-gap)


def installments_due(first_payment_date: date, term: int, *, through: date, after: date | None = None) -> int:
    """How many of the loan's installments fall due by `through` (and after `after`, if given)."""
    def due_by(day: date) -> int:
        return max(0, min(term, month_index(day) - month_index(first_payment_date) + 1))
    return due_by(through) - (due_by(after) if after else 0)


def scheduled_balance_cents(balance_begin_cents: int, note_rate: Decimal, payment_cents: int, installments: int) -> int:
    """The balance after `installments` scheduled installments and nothing else, in cents (the servicing's split)."""
    balance = balance_begin_cents
    for _ in range(installments):
        if balance <= 0:
            break
        _interest, principal = scheduled_split(balance_cents=balance, note_rate=note_rate,
                                               payment_cents=payment_cents)
        balance -= principal
    return balance
