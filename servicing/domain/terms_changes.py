"""Which changes of terms a loan has, when each is recorded, and what each decides.

Pure. The one place a change's figures are worked out: the service that records
it (servicing.services.terms_changes) and the verifier that re-derives it
(servicing.verification) both call `decide`.

- An ARM changes its rate on its change dates (servicing.domain.arm); it is
  recorded once the index value it reads is known: on or after the look-back day.
- An interest-only period ends at installment interest_only_months + 1 (unless an
  ARM change falls on the same installment: that change recasts the P&I too); it
  is recorded from the start of its notice window (120 days before that installment).
- The new P&I is recast on the balance scheduled at the change: the position's
  balance once every installment due before the change's first installment is
  paid on its own terms (so a loan that is behind recasts on what it will owe, not
  on the arrears), over the amortization months left (interest only while the
  interest-only period lasts).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from servicing.domain.arm import NoticeDates, adjusted_rate, change_dates, lookback_date, notice_dates
from servicing.domain.loan_terms import LoanTerms, TermsStep, scheduled_balance_cents, steps_from_json, terms_on

ARM_RESET, IO_PERIOD_ENDED = "arm_reset", "io_period_ended"
IO_NOTICE_DAYS = 120


@dataclass(frozen=True, slots=True)
class DueChange:
    """A change of terms the loan's note schedules: from which installment, and from when it can be recorded."""

    reason: str
    number: int  # the ARM change's number (0: the first), or 0
    first_installment: int
    first_due_date: date
    change_date: date
    recordable_on: date


def scheduled_changes(terms: LoanTerms, first_payment_date: date) -> list[DueChange]:
    """Every change of terms of the loan, in order of its first installment (at most one an installment: an ARM change
    on the installment that ends an interest-only period recasts the P&I for both)."""
    found: dict[int, DueChange] = {}
    if terms.interest_only_months:
        number = terms.interest_only_months + 1
        due = terms.due_date(first_payment_date, number)
        found[number] = DueChange(IO_PERIOD_ENDED, 0, number, due, terms.due_date(first_payment_date, number - 1),
                                  due - timedelta(days=IO_NOTICE_DAYS))
    if terms.arm is not None:
        for change in change_dates(terms.arm, first_payment_date=first_payment_date, term_months=terms.term_months):
            found[change.first_installment] = DueChange(
                ARM_RESET, change.number, change.first_installment, change.first_due_date, change.change_date,
                lookback_date(terms.arm, change.change_date))
    return [found[n] for n in sorted(found)]


@dataclass(frozen=True, slots=True)
class Figures:
    """What a change reads of the position: its balance, next due date and the terms timeline."""

    principal_balance_cents: int
    next_due_date: date
    note_rate: Decimal
    payment_pi_cents: int
    balloon_due_date: date | None
    timeline: tuple[TermsStep, ...]


def figures_of(position: Any) -> Figures:
    """The figures of a LoanPosition row (or anything with its attribute names: the verifier's state)."""
    return Figures(position.principal_balance_cents, position.next_due_date, position.note_rate,
                   position.payment_pi_cents, position.balloon_due_date, steps_from_json(position.terms_changes))


@dataclass(frozen=True, slots=True)
class Decision:
    """What a change decides: the terms before and after, and how they were set."""

    note_rate_before: Decimal
    note_rate: Decimal
    payment_pi_cents_before: int
    payment_pi_cents: int
    scheduled_balance_cents: int
    fully_indexed_rate: Decimal | None
    limited_by: str
    notices: NoticeDates | None


def decide(change: DueChange, *, terms: LoanTerms, initial_rate: Decimal, figures: Figures,
           index_value: Decimal | None) -> Decision:
    """The new rate (an ARM's: from `index_value`) and the P&I recast on the balance scheduled at the change."""
    # The terms of the installments due before the change (any day before its first due date reads them).
    before = change.first_due_date - timedelta(days=1)
    rate_before, pi_before = terms_on(figures.timeline, before, figures.note_rate, figures.payment_pi_cents)
    balance = scheduled_balance_cents(
        balance_cents=figures.principal_balance_cents, next_due=figures.next_due_date, until=change.first_due_date,
        steps=figures.timeline, rate=figures.note_rate, pi_cents=figures.payment_pi_cents,
        balloon_due=figures.balloon_due_date)
    rate, fully_indexed, limited_by, notices = rate_before, None, "", None
    if change.reason == ARM_RESET:
        if terms.arm is None or index_value is None:
            raise ValueError("an ARM change needs the loan's ARM terms and the index value in effect")
        picked = adjusted_rate(terms.arm, index_value=index_value, rate_before=rate_before, initial_rate=initial_rate,
                               first=change.number == 0)
        rate, fully_indexed, limited_by = picked.note_rate, picked.fully_indexed_rate, picked.limited_by
        notices = notice_dates(change.first_due_date, first=change.number == 0)
    pi = terms.payment_cents(balance_cents=balance, note_rate=rate, from_number=change.first_installment) if balance \
        else 0
    return Decision(rate_before, rate, pi_before, pi, balance, fully_indexed, limited_by, notices)

