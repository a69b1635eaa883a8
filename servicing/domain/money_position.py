"""A loan's money position on a day: what payment application and payoff both read.

Pure value object. It lives in its own module because payment application
(`servicing.domain.payment_application`) quotes payoffs (`servicing.domain.payoff_quotes`) and
payoff reads the position: with the position here, both depend on this module
and neither on the other's, so the two no longer import each other.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from ledger.domain.money import require_cents
from servicing.domain.amortization import refuse_negative_amortization
from servicing.domain.arguments import require_date as _require_date
from servicing.domain.loan_terms import TermsStep


@dataclass(frozen=True, slots=True)
class MoneyPosition:
    """What a loan owes and holds on a day: the input and output of payment application.

    The money part of the `servicing.models.LoanPosition` row (the read model, which also carries the
    loan's status and delinquency), as a pure value; `servicing.services.payoff.money_position` makes one.
    """

    principal_balance_cents: int
    note_rate: Decimal
    payment_pi_cents: int
    escrow_monthly_cents: int
    next_due_date: date
    suspense_cents: int = 0
    late_charges_due_cents: int = 0
    fees_due_cents: int = 0
    escrow_balance_cents: int = 0
    # Loan products: a balloon's last due date (its installment is the whole balance), and the terms timeline
    # (each installment is split on the rate and P&I of its own due date; empty: note_rate and payment_pi_cents).
    balloon_due_date: date | None = None
    terms_timeline: tuple[TermsStep, ...] = ()
    # Non-interest-bearing (servicing.domain.loss_mitigation): owed at payoff, never accrues interest.
    deferred_principal_cents: int = 0

    def __post_init__(self) -> None:
        for name in (
            "principal_balance_cents", "payment_pi_cents", "escrow_monthly_cents", "suspense_cents",
            "late_charges_due_cents", "fees_due_cents", "escrow_balance_cents", "deferred_principal_cents",
        ):
            require_cents(getattr(self, name), name)
        _require_date("next_due_date", self.next_due_date)
        # Checks the rate too; a loan's terms are checked here, so every split of its installments can clamp.
        refuse_negative_amortization(
            balance_cents=self.principal_balance_cents,
            note_rate=self.note_rate,
            payment_cents=self.payment_pi_cents,
        )
