"""A loan's age, lead and installments due on the trust calendar."""
from datetime import date
from decimal import Decimal

from remittance.domain.loan_calendar import (
    LoanTiming,
    installments_due,
    scheduled_balance_cents,
    timing_at,
)
from servicing.domain.amortization import schedule


def test_age_counts_installments_due_before_the_period_and_lead_the_periods_before_the_first():
    assert timing_at(date(2026, 2, 1), date(2026, 2, 1)) == LoanTiming(age=0, lead=0)
    assert timing_at(date(2026, 2, 1), date(2026, 5, 1)) == LoanTiming(age=3, lead=0)
    assert timing_at(date(2026, 2, 1), date(2026, 1, 1)) == LoanTiming(age=0, lead=1)


def test_installments_due_in_a_window():
    first = date(2026, 2, 1)
    assert installments_due(first, 360, through=date(2026, 1, 31)) == 0
    assert installments_due(first, 360, through=date(2026, 2, 28)) == 1
    assert installments_due(first, 360, through=date(2026, 4, 30), after=date(2026, 2, 28)) == 2
    assert installments_due(first, 12, through=date(2030, 1, 31)) == 12


def test_the_scheduled_balance_follows_the_servicing_schedule():
    installments = schedule(principal_cents=10_000_000, note_rate=Decimal(6), term_months=360,
                            first_payment_date=date(2026, 2, 1))
    assert scheduled_balance_cents(10_000_000, Decimal(6), 59_955, 12) == installments[11].balance_cents_after
