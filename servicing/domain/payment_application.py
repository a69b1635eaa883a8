"""Payment application: how money received on a loan is split, to the cent.

Pure functions: a `MoneyPosition` and an amount in, a `PaymentApplication`
(the parts and the position after) out. The shell posts the parts.

The order (DESIGN.md section 3):
1. Installments, oldest first. Each takes its month's interest (30/360 on
   the balance before it), its scheduled principal (payment_pi - interest,
   capped at the balance; a balloon's last installment: the whole balance)
   and its escrow deposit, on the rate and P&I in force for its own due date
   (`servicing.domain.loan_terms.terms_on`). The next installment is
   paid whenever the funds cover it, even before its due date; further ones
   only while they are already due on the day received and fully covered.
2. Then, only if the loan is current after those installments: late charges,
   then fees, then a curtailment (principal prepayment, capped at the
   balance).
3. Whatever is left waits in suspense. Suspense joins the next payment, so a
   second partial payment completes the installment.

Why whole installments come first: taking a late charge out of a periodic
payment would leave that payment short and pyramid late fees, which
Regulation Z 1026.36(c)(2) forbids; and money on a loan still behind after step 1 belongs to the
next overdue installment, so it waits in suspense instead of prepaying
principal or paying fees. Why the capped curtailment spills into suspense:
nothing received is ever dropped; a payment that would clear the loan is a
payoff, which the caller detects with `is_payoff` and settles with
`servicing.domain.payoff_quotes.settle_payoff` instead.

Accounting identity of every application:
interest + principal + escrow + late charges + fees + curtailment
+ to_suspense - from_suspense == amount received.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from dateutil.relativedelta import relativedelta

from ledger.domain.money import require_cents
from servicing.domain.loan_terms import installment_split, terms_on
from servicing.domain.arguments import require_date as _require_date
from servicing.domain.money_position import MoneyPosition
from servicing.domain.payoff_quotes import payoff_quote


@dataclass(frozen=True, slots=True)
class PaymentApplication:
    """The parts a payment was split into and the loan's position after it."""

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
    position_after: MoneyPosition

    @property
    def applied_cents(self) -> int:
        """Everything credited to the loan's obligations (not counting suspense)."""
        return (
            self.interest_cents + self.principal_cents + self.escrow_cents + self.late_charges_cents
            + self.fees_cents + self.curtailment_cents
        )


@dataclass(frozen=True, slots=True)
class _InstallmentPaid:
    due_date: date
    interest_cents: int
    principal_cents: int
    escrow_cents: int

    @property
    def total_cents(self) -> int:
        return self.interest_cents + self.principal_cents + self.escrow_cents


def is_payoff(*, position: MoneyPosition, amount_cents: int, received_on: date) -> bool:
    """True when the money received covers the whole payoff quoted for that day.

    A quote at or below zero (escrow and suspense exceed the debt) makes any
    amount a payoff.
    """
    require_cents(amount_cents, "amount_cents")
    return amount_cents >= payoff_quote(position=position, as_of=received_on).total_cents


def apply_payment(
    *, position: MoneyPosition, amount_cents: int, received_on: date, principal_only: bool = False
) -> PaymentApplication:
    """Split money received into installments, late charges, fees, curtailment and suspense."""
    require_cents(amount_cents, "amount_cents", zero=False)
    _require_date("received_on", received_on)
    if position.principal_balance_cents == 0:
        raise ValueError("the loan is paid off; there is nothing to apply a payment to")
    if principal_only:
        return _apply_principal_only(position=position, amount_cents=amount_cents, received_on=received_on)
    funds = position.suspense_cents + amount_cents
    paid = _installments_covered(position=position, funds_cents=funds, received_on=received_on)
    funds -= sum(item.total_cents for item in paid)
    balance = position.principal_balance_cents - sum(item.principal_cents for item in paid)
    next_due = position.next_due_date + relativedelta(months=len(paid))
    late_charges = fees = curtailment = 0
    # Extras only once at least one whole installment was paid and nothing is still overdue.
    if paid and next_due > received_on:
        late_charges = min(funds, position.late_charges_due_cents)
        fees = min(funds - late_charges, position.fees_due_cents)
        curtailment = min(funds - late_charges - fees, balance)
        funds -= late_charges + fees + curtailment
    # funds now holds what stays in suspense; move only the difference.
    to_suspense = max(funds - position.suspense_cents, 0)
    from_suspense = max(position.suspense_cents - funds, 0)
    after = replace(
        position,
        principal_balance_cents=balance - curtailment,
        next_due_date=next_due,
        suspense_cents=funds,
        late_charges_due_cents=position.late_charges_due_cents - late_charges,
        fees_due_cents=position.fees_due_cents - fees,
        escrow_balance_cents=position.escrow_balance_cents + sum(item.escrow_cents for item in paid),
    )
    return PaymentApplication(
        amount_cents=amount_cents,
        received_on=received_on,
        interest_cents=sum(item.interest_cents for item in paid),
        principal_cents=sum(item.principal_cents for item in paid),
        escrow_cents=sum(item.escrow_cents for item in paid),
        late_charges_cents=late_charges,
        fees_cents=fees,
        curtailment_cents=curtailment,
        to_suspense_cents=to_suspense,
        from_suspense_cents=from_suspense,
        installments_paid=len(paid),
        due_dates_paid=tuple(item.due_date for item in paid),
        position_after=after,
    )


def _installments_covered(*, position: MoneyPosition, funds_cents: int, received_on: date) -> list[_InstallmentPaid]:
    """The installments the funds pay in full: the next one, then those already due."""
    paid: list[_InstallmentPaid] = []
    balance = position.principal_balance_cents
    while balance > 0:
        # Counting from the first unpaid date keeps a due day of the 31st from drifting.
        due_date = position.next_due_date + relativedelta(months=len(paid))
        if paid and due_date > received_on:
            break
        # Each installment on the terms of its own due date (an ARM change, the end of interest only).
        rate, payment_pi = terms_on(position.terms_timeline, due_date, position.note_rate, position.payment_pi_cents)
        interest, principal = installment_split(balance_cents=balance, note_rate=rate, payment_pi_cents=payment_pi,
                                                due=due_date, balloon_due=position.balloon_due_date)
        item = _InstallmentPaid(due_date, interest, principal, position.escrow_monthly_cents)
        if item.total_cents > funds_cents:
            break
        paid.append(item)
        funds_cents -= item.total_cents
        balance -= principal
    return paid


def _apply_principal_only(*, position: MoneyPosition, amount_cents: int, received_on: date) -> PaymentApplication:
    """A borrower-directed principal payment: all of it curtails, up to the balance; suspense is untouched."""
    curtailment = min(amount_cents, position.principal_balance_cents)
    overflow = amount_cents - curtailment
    after = replace(
        position,
        principal_balance_cents=position.principal_balance_cents - curtailment,
        suspense_cents=position.suspense_cents + overflow,
    )
    return PaymentApplication(
        amount_cents=amount_cents, received_on=received_on,
        interest_cents=0, principal_cents=0, escrow_cents=0, late_charges_cents=0, fees_cents=0,
        curtailment_cents=curtailment, to_suspense_cents=overflow, from_suspense_cents=0,
        installments_paid=0, due_dates_paid=(), position_after=after,
    )
