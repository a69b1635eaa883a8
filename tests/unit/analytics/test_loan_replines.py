"""A loan as a repline: the one rule for a trust's pool loans and a loan tape's rows, and the tape's first period."""
from datetime import date
from decimal import Decimal

import pytest

from analytics.domain.loan_replines import first_period_after_cutoff, loan_repline
from remittance.domain.trust_calendar import Period, first_collection_period


@pytest.mark.parametrize(("cutoff", "period"), [
    (date(2026, 1, 15), "2026-02"), (date(2026, 1, 31), "2026-02"), (date(2026, 2, 1), "2026-02"),
    (date(2026, 12, 2), "2027-01"),
])
def test_the_first_period_is_the_first_month_beginning_on_or_after_the_cutoff(cutoff, period):
    assert first_period_after_cutoff(cutoff) == Period.parse(period)


def test_it_is_the_trusts_first_period_when_the_first_distribution_is_in_the_month_after():
    assert first_period_after_cutoff(date(2026, 1, 15)) == first_collection_period(date(2026, 3, 25))


def repline(**change):
    loan = dict(name="L1", balance_cents=250_000_00, note_rate=Decimal("6.5"), servicing_fee_rate=Decimal("0.25"),
                term_months=360, payment_pi_cents=1580_17, first_payment_date=date(2026, 2, 1),
                period_start=date(2026, 2, 1))
    return loan_repline(**{**loan, **change})


def test_a_loans_repline_has_its_rates_term_payment_and_age_at_the_period():
    r = repline()
    assert (r.balance, r.gross_wac, r.net_wac, r.term, r.age, r.lead, r.payment) == (
        250_000.0, Decimal("6.5"), Decimal("6.25"), 360, 0, 0, 1580.17)
    seasoned = repline(period_start=date(2027, 2, 1))
    assert (seasoned.age, seasoned.lead, seasoned.remaining_term) == (12, 0, 348)
    assert repline(period_start=date(2026, 1, 1)).lead == 1


def test_a_loan_with_nothing_left_to_pay_is_no_repline():
    assert repline(balance_cents=0) is None
    assert repline(term_months=12, period_start=date(2027, 2, 1)) is None
    assert repline(term_months=13, period_start=date(2027, 2, 1)) is not None
