"""The pure loss-mitigation math, on hand-checked figures, and its money properties."""
from datetime import date, timedelta
from decimal import Decimal

import pytest
from dateutil.relativedelta import relativedelta
from hypothesis import given
from hypothesis import strategies as st

from servicing.domain import loss_mitigation as lm
from servicing.domain.payoff_quotes import payoff_quote
from servicing.domain.money_position import MoneyPosition

# The seed loan after its February installment: 99.55 of principal paid off 100,000.00 at 6% (P&I 599.55).
AFTER_FEB = 9_990_045


def test_spread_gives_the_first_installments_the_extra_cents():
    assert lm.spread(100, 3) == (34, 33, 33)
    assert lm.spread(169_910, 2) == (84_955, 84_955)
    with pytest.raises(ValueError):
        lm.spread(100, 0)


def test_the_loan_cycle_of_a_plan():
    assert lm.cycle_after(date(2026, 3, 1), date(2026, 4, 10), 2) == (date(2026, 5, 1), date(2026, 6, 1))
    assert lm.cycle_from(date(2026, 3, 1), date(2026, 3, 1), 2) == (date(2026, 3, 1), date(2026, 4, 1))
    assert lm.due_dates_through(date(2026, 1, 31), date(2026, 3, 31)) == (
        date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31))  # counted from the first: no drift


def test_a_deferral_by_hand():
    # March 499.50 (99,900.45 x 0.5%) + April 499.00 (99,800.40) + May 498.50 (99,699.85) = 1,497.00 of interest;
    # principal 100.05 + 100.55 + 101.05 = 301.65.
    d = lm.deferral(principal_balance_cents=AFTER_FEB, note_rate=Decimal("6"), payment_pi_cents=59_955,
                    next_due_date=date(2026, 3, 1), escrow_advance_cents=30_000, late_charges_due_cents=2_998,
                    on=date(2026, 5, 20))
    assert (d.interest_cents, d.principal_cents) == (149_700, 30_165)
    assert d.deferred_cents == 3 * 59_955 + 30_000 and d.next_due_date_after == date(2026, 6, 1)
    assert d.late_charges_waived_cents == 2_998
    with pytest.raises(ValueError, match="nothing to defer"):
        lm.deferral(principal_balance_cents=AFTER_FEB, note_rate=Decimal("6"), payment_pi_cents=59_955,
                    next_due_date=date(2026, 6, 1), escrow_advance_cents=0, late_charges_due_cents=0,
                    on=date(2026, 5, 20))


def test_a_repayment_plan_by_hand():
    terms = lm.repayment_plan(next_due_date=date(2026, 3, 1), payment_pi_cents=59_955, escrow_monthly_cents=25_000,
                              suspense_cents=10_000, started_on=date(2026, 4, 10), months=3)
    # Two installments of 849.55 missed less 100.00 in suspense: 1,599.10 over three months.
    assert terms.arrears_cents == 159_910
    assert terms.amounts_cents == (84_955 + 53_304, 84_955 + 53_303, 84_955 + 53_303)
    assert terms.due_dates == (date(2026, 5, 1), date(2026, 6, 1), date(2026, 7, 1))


def test_a_plan_verdict():
    dues, amounts = (date(2026, 5, 1), date(2026, 6, 1)), (1_000, 1_000)
    def verdict(payments, on):
        return lm.plan_verdict(due_dates=dues, amounts=amounts, payments=payments, started_on=date(2026, 4, 10), on=on)
    running = verdict([(date(2026, 5, 2), 1_000)], date(2026, 5, 20))
    assert not running.kept and not running.broken
    assert verdict([(date(2026, 5, 2), 1_000), (date(2026, 6, 30), 1_000)], date(2026, 7, 1)).kept
    broken = verdict([(date(2026, 5, 31), 999)], date(2026, 6, 1))
    assert broken.broken and broken.received_cents == (999,) and broken.required_cents == (1_000,)
    # A payment before the plan started does not count.
    assert verdict([(date(2026, 4, 1), 2_000)], date(2026, 7, 1)).broken


def test_a_modification_by_hand():
    # 99,900.45 + four months' interest 4 x 499.50 + 25.00 of fees, less 1,923.45 set aside = 100,000.00,
    # at 4% over 480 months: 417.94 a month (100,000 x r / (1 - (1 + r)^-480), r = 4%/12).
    m = lm.modification(principal_balance_cents=AFTER_FEB, note_rate=Decimal("6"), next_due_date=date(2026, 5, 1),
                        escrow_advance_cents=0, fees_due_cents=2_500, late_charges_due_cents=5_996,
                        on=date(2026, 8, 25), new_note_rate=Decimal("4"), term_months=480,
                        first_payment_date=date(2026, 9, 1), principal_forbearance_cents=192_345)
    assert m.missed_interest_cents == 4 * 49_950 and m.capitalized_cents == 4 * 49_950 + 2_500
    assert m.principal_after_cents == 10_000_000 and m.payment_pi_cents == 41_794
    assert m.maturity_date == date(2066, 8, 1) and m.late_charges_waived_cents == 5_996
    with pytest.raises(ValueError, match="leave nothing"):
        lm.modification(principal_balance_cents=100, note_rate=Decimal("6"), next_due_date=date(2026, 9, 1),
                        escrow_advance_cents=0, fees_due_cents=0, late_charges_due_cents=0, on=date(2026, 8, 25),
                        new_note_rate=Decimal("4"), term_months=12, first_payment_date=date(2026, 9, 1),
                        forgiven_cents=100)


@given(principal=st.integers(1_000_00, 1_000_000_00), deferred=st.integers(0, 100_000_00),
       days=st.integers(0, 400))
def test_deferred_principal_never_accrues_interest(principal, deferred, days):
    """The payoff's interest is the same with or without a deferred balance; the total takes it once."""
    base = MoneyPosition(principal_balance_cents=principal, note_rate=Decimal("6.5"), payment_pi_cents=principal,
                         escrow_monthly_cents=0, next_due_date=date(2026, 3, 1))
    with_deferred = MoneyPosition(**{**{f: getattr(base, f) for f in base.__slots__},
                                     "deferred_principal_cents": deferred})
    on = date(2026, 2, 1) + timedelta(days=days)
    plain, quoted = payoff_quote(position=base, as_of=on), payoff_quote(position=with_deferred, as_of=on)
    assert quoted.interest_cents == plain.interest_cents
    assert quoted.total_cents == plain.total_cents + deferred


@given(balance=st.integers(100_000_00, 500_000_00), missed=st.integers(1, 12), advance=st.integers(0, 10_000_00),
       fees=st.integers(0, 1_000_00), forbear=st.integers(0, 49_000_00), forgive=st.integers(0, 49_000_00))
def test_a_modification_accounts_for_every_cent(balance, missed, advance, fees, forbear, forgive):
    m = lm.modification(principal_balance_cents=balance, note_rate=Decimal("7"), next_due_date=date(2026, 1, 1),
                        escrow_advance_cents=advance, fees_due_cents=fees, late_charges_due_cents=0,
                        on=date(2026, 1, 1) + relativedelta(months=missed - 1, days=5),
                        new_note_rate=Decimal("3"), term_months=360,
                        first_payment_date=date(2026, 1, 1) + relativedelta(months=missed),
                        principal_forbearance_cents=forbear, forgiven_cents=forgive)
    assert len(m.missed_due_dates) == missed
    assert (m.principal_after_cents + m.principal_forbearance_cents + m.forgiven_cents
            == balance + m.missed_interest_cents + advance + fees)
