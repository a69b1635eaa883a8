"""A payment file's ordinary payments worked out over plain figures: the batch twin of payment application.

Pure. `servicing.domain.payment_application.apply_payment` (with `is_payoff`
before it) is the reference: it takes a validated `MoneyPosition` and returns
a `PaymentApplication` with the position after, also validated. Over a file
of a hundred thousand payments that validation is most of the money math,
and it re-checks figures the LoanPosition projection already holds checked:
they were checked when the loan was boarded and every event since moved them
by checked amounts. So this module reads the projection's figures as they
are (`LoanFigures`: the row itself) and computes, for each payment, the same
split with integers and dates only, the same rounding, the same order:

- `application_of` gives the parts of an ordinary payment (installments,
  then late charges, fees and curtailment, then suspense) exactly as
  `apply_payment` would, or None when the payment is not an ordinary one:
  it covers the payoff (a payoff, settled by `payoff_quotes`), or it would
  clear the principal without paying the loan off (refused), or the loan has
  no principal left. The caller takes the reference way for those, which
  gives the payoff's events or the refusal's words.

A loan paid more than once in a file is worked out, payment after payment, on
its position with the previous payment's events folded in by the projection's
own fold (`servicing.services.payment_files`).

tests/unit/servicing/test_payment_batch.py holds it to the reference: the
same events, postings and positions for random payments on random positions.
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Protocol

from ledger.domain.money import monthly_rate_amount
from servicing.domain.loan_terms import steps_from_json, terms_on
from servicing.domain.payoff_quotes import payoff_interest_cents


class LoanFigures(Protocol):
    """A loan's position as the LoanPosition projection holds it: what a payment reads (taken as it is, unchecked).

    A `servicing.models.LoanPosition` row is one, as read: no conversion, no copy.
    """

    @property
    def principal_balance_cents(self) -> int: ...
    @property
    def note_rate(self) -> Decimal: ...
    @property
    def payment_pi_cents(self) -> int: ...
    @property
    def escrow_monthly_cents(self) -> int: ...
    @property
    def next_due_date(self) -> date: ...
    @property
    def escrow_balance_cents(self) -> int: ...
    @property
    def escrow_advance_cents(self) -> int: ...
    @property
    def suspense_cents(self) -> int: ...
    @property
    def late_charges_due_cents(self) -> int: ...
    @property
    def fees_due_cents(self) -> int: ...
    @property
    def balloon_due_date(self) -> date | None: ...
    @property
    def terms_changes(self) -> list[Any]: ...


@dataclass(frozen=True, slots=True)
class PaymentParts:
    """How an ordinary payment splits: `PaymentApplication`'s parts, with the escrow part's advance repaid."""

    amount_cents: int
    received_on: date
    interest_cents: int
    principal_cents: int
    escrow_cents: int
    late_charges_cents: int
    fees_cents: int
    curtailment_cents: int
    to_suspense_cents: int
    from_suspense_cents: int
    installments_paid: int
    due_dates_paid: tuple[date, ...]
    next_due_date_before: date
    next_due_date_after: date
    # The escrow part repays any escrow the servicer advanced first; the rest is deposited.
    escrow_advance_repaid_cents: int
    escrow_deposit_cents: int


def add_months(day: date, months: int) -> date:
    """`day + relativedelta(months=months)`: the same day of the month, or the month's last if it has fewer."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def covers_payoff(figures: LoanFigures, amount_cents: int, received_on: date) -> bool:
    """`is_payoff` on the payoff's view of the position (the escrow advance netted against the escrow balance)."""
    net_escrow = figures.escrow_balance_cents - figures.escrow_advance_cents
    interest = payoff_interest_cents(principal_cents=figures.principal_balance_cents, note_rate=figures.note_rate,
                                     timeline=steps_from_json(figures.terms_changes),
                                     start=add_months(figures.next_due_date, -1), end=received_on)
    total = (figures.principal_balance_cents + interest + figures.late_charges_due_cents + figures.fees_due_cents
             + max(-net_escrow, 0) - max(net_escrow, 0) - figures.suspense_cents)
    return amount_cents >= total


def application_of(figures: LoanFigures, amount_cents: int, received_on: date) -> PaymentParts | None:
    """An ordinary payment's parts, as `apply_payment` splits it; None for a payoff, a refusal or no principal."""
    balance = figures.principal_balance_cents
    if balance <= 0 or covers_payoff(figures, amount_cents, received_on):
        return None
    rate, scheduled, escrow_monthly = figures.note_rate, figures.payment_pi_cents, figures.escrow_monthly_cents
    timeline = steps_from_json(figures.terms_changes) if figures.terms_changes else ()
    balloon = figures.balloon_due_date
    funds = figures.suspense_cents + amount_cents
    interest_paid = principal_paid = installments = 0
    due_dates: list[date] = []
    # The installments the funds pay in full: the next one, then those already due (_installments_covered).
    while balance > 0:
        due = add_months(figures.next_due_date, installments)
        if installments and due > received_on:
            break
        if timeline:  # the terms of this installment's own due date (loan_terms.terms_on)
            rate, scheduled = terms_on(timeline, due, figures.note_rate, figures.payment_pi_cents)
        interest = monthly_rate_amount(balance, rate)
        # installment_split: a balloon's last installment takes the balance, any other the clamped rest of the P&I.
        principal = balance if balloon is not None and due >= balloon else min(max(scheduled - interest, 0), balance)
        total = interest + principal + escrow_monthly
        if total > funds:
            break
        funds -= total
        balance -= principal
        interest_paid += interest
        principal_paid += principal
        installments += 1
        due_dates.append(due)
    next_due = add_months(figures.next_due_date, installments)
    late_charges = fees = curtailment = 0
    if installments and next_due > received_on:
        late_charges = min(funds, figures.late_charges_due_cents)
        fees = min(funds - late_charges, figures.fees_due_cents)
        curtailment = min(funds - late_charges - fees, balance)
        funds -= late_charges + fees + curtailment
    if balance - curtailment == 0:
        return None  # clears the principal but not the payoff: refused, in the reference's words
    escrow = escrow_monthly * installments
    advance_repaid = min(figures.escrow_advance_cents, escrow)
    return PaymentParts(
        amount_cents=amount_cents, received_on=received_on,
        interest_cents=interest_paid, principal_cents=principal_paid, escrow_cents=escrow,
        late_charges_cents=late_charges, fees_cents=fees, curtailment_cents=curtailment,
        to_suspense_cents=max(funds - figures.suspense_cents, 0),
        from_suspense_cents=max(figures.suspense_cents - funds, 0),
        installments_paid=installments, due_dates_paid=tuple(due_dates),
        next_due_date_before=figures.next_due_date, next_due_date_after=next_due,
        escrow_advance_repaid_cents=advance_repaid, escrow_deposit_cents=escrow - advance_repaid,
    )
