"""The clean-up call's rule (pure): when a deal's call may be exercised, and what it costs.

A deal with a clean-up call (DealStructure.cleanup_call_percent, e.g. 10) lets the servicer or the
residual holder buy every loan left in the pool once the pool has paid down *below* that percent of
its cut-off balance: the trust is then too small to be worth administering. The test is exact, in
integers: balance x 100 x d < n x cut-off, the percent being n / d (a Decimal's exact ratio), so
no rounding can let a pool in at the threshold or keep one out just under it.

The price of each loan is what a repurchase pays (trusts.services.pool prices it, the one place):
its unpaid principal at par plus the interest accrued to the call date. `call_price` only adds them.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class CallEligibility:
    """The pool against the deal's call: eligible when the balance is below percent x cut-off balance."""

    pool_balance_cents: int
    cutoff_balance_cents: int
    percent: Decimal

    @property
    def eligible(self) -> bool:
        numerator, denominator = self.percent.as_integer_ratio()
        return self.pool_balance_cents * 100 * denominator < numerator * self.cutoff_balance_cents

    @property
    def threshold_cents(self) -> Decimal:
        """percent x cut-off balance / 100, exactly (for messages; `eligible` decides in integers)."""
        numerator, denominator = self.percent.as_integer_ratio()
        return Decimal(numerator * self.cutoff_balance_cents) / Decimal(100 * denominator)

    def problem(self) -> str | None:
        """Why the call may not be exercised on these figures, or None."""
        if self.eligible:
            return None
        return (f"the pool's balance of {self.pool_balance_cents} cents is not below {self.percent}% of its "
                f"cut-off balance of {self.cutoff_balance_cents} cents ({_cents_text(self.threshold_cents)} cents)")


def _cents_text(cents: Decimal) -> str:
    """An exact threshold without trailing zeros: 1500000 or 1500000.5."""
    return format(cents.normalize(), "f")


@dataclass(frozen=True, slots=True)
class LoanPrice:
    """One loan's price in the call: its unpaid principal at par and the interest accrued to the call date."""

    loan_number: str
    principal_cents: int
    interest_cents: int


@dataclass(frozen=True, slots=True)
class CallPrice:
    """What the buyer pays for the whole pool: principal (at par) and interest, and the loans it buys."""

    loans: tuple[str, ...]
    principal_cents: int
    interest_cents: int

    @property
    def total_cents(self) -> int:
        return self.principal_cents + self.interest_cents


def call_price(prices: Sequence[LoanPrice]) -> CallPrice:
    """The call's price: the loans (in loan-number order) and the sums of their principal and interest."""
    ordered = sorted(prices, key=lambda p: p.loan_number)
    return CallPrice(loans=tuple(p.loan_number for p in ordered),
                     principal_cents=sum(p.principal_cents for p in ordered),
                     interest_cents=sum(p.interest_cents for p in ordered))
