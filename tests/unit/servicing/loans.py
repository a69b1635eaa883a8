"""The seed's loan as a position, for the servicing unit tests."""
from dataclasses import replace
from datetime import date
from decimal import Decimal

from servicing.domain.money_position import MoneyPosition

INSTALLMENT = 59_955 + 25_000  # P&I plus escrow of the seed loan below


def seed_loan(**changes) -> MoneyPosition:
    """$100,000 at 6% for 30 years with 250.00 escrow a month, next due February 1, 2026."""
    base = MoneyPosition(
        principal_balance_cents=10_000_000,
        note_rate=Decimal("6"),
        payment_pi_cents=59_955,
        escrow_monthly_cents=25_000,
        next_due_date=date(2026, 2, 1),
    )
    return replace(base, **changes)
