"""RESPA annual escrow analysis: shortage, deficiency, surplus refunded or credited, and the cushion limit."""
from __future__ import annotations

from datetime import date, datetime

import pytest
from dateutil.relativedelta import relativedelta
from hypothesis import given
from hypothesis import strategies as st

from servicing.domain.escrow_analysis import EscrowAnalysis, EscrowAnalysisItem, analyze_escrow

YEAR = date(2026, 1, 1)
# Taxes of 3,600.00 in two halves (June 1 and December 1) and insurance of 1,200.00 on March 15:
# 4,800.00 a year, 400.00 a month, cushion 800.00. With an opening balance B the month-end balances
# are B+400, B+800, B, B+400, B+800, B-600 (June, the low point), ..., B.
ITEMS = (
    EscrowAnalysisItem(name="county tax", annual_amount_cents=360_000,
                       disbursement_dates=(date(2026, 6, 1), date(2026, 12, 1))),
    EscrowAnalysisItem(name="hazard insurance", annual_amount_cents=120_000, disbursement_dates=(date(2026, 3, 15),)),
)


def analyze(opening_cents: int, *, borrower_current: bool = True, **options) -> EscrowAnalysis:
    return analyze_escrow(
        escrow_balance_cents=opening_cents, items=ITEMS, computation_year_start=YEAR,
        borrower_current=borrower_current, **options,
    )


def test_the_projection_deposits_monthly_and_pays_bills_on_their_dates():
    analysis = analyze(100_000)
    assert analysis.annual_disbursements_cents == 480_000
    assert analysis.base_monthly_escrow_cents == 40_000
    assert analysis.cushion_cents == 80_000
    assert len(analysis.projection) == 12
    assert [m.month_start for m in analysis.projection] == [YEAR + relativedelta(months=k) for k in range(12)]
    assert [m.disbursements_cents for m in analysis.projection] == [0, 0, 120_000, 0, 0, 180_000, 0, 0, 0, 0, 0, 180_000]
    closing = [m.balance_cents_closing for m in analysis.projection]
    assert closing[:6] == [140_000, 180_000, 100_000, 140_000, 180_000, 40_000]
    assert analysis.projected_low_point_cents == 40_000


def test_shortage_is_spread_over_twelve_months_and_collected_exactly():
    analysis = analyze(100_000)  # low point 400.00 against a cushion of 800.00
    assert analysis.shortage_cents == 40_000
    assert (analysis.surplus_cents, analysis.deficiency_cents, analysis.surplus_refund_cents) == (0, 0, 0)
    assert analysis.new_monthly_escrow_cents == 40_000 + 3_334  # 33.333.. rounded up
    payments = analysis.monthly_escrow_payments_cents
    assert payments == (43_334,) * 11 + (43_326,)
    assert sum(payments) - 12 * 40_000 == analysis.shortage_cents


def test_a_negative_projected_balance_is_a_deficiency_collected_with_the_shortage():
    analysis = analyze(-20_000)  # the servicer advanced 200.00; low point -800.00
    assert analysis.projected_low_point_cents == -80_000
    assert analysis.deficiency_cents == 80_000
    assert analysis.shortage_cents == 80_000 + 80_000  # back to zero, then up to the cushion
    assert sum(analysis.monthly_escrow_payments_cents) - 12 * 40_000 == 160_000


def test_a_shortage_may_be_spread_over_more_than_a_year():
    analysis = analyze(100_000, shortage_months=24)
    assert analysis.new_monthly_escrow_cents == 40_000 + 1_667
    assert analysis.monthly_escrow_payments_cents == (41_667,) * 12


def test_a_surplus_of_50_dollars_or_more_is_refunded_to_a_current_borrower():
    analysis = analyze(150_000)  # low point 900.00: surplus 100.00
    assert analysis.surplus_cents == 10_000
    assert analysis.surplus_refund_cents == 10_000
    assert analysis.surplus_credit_cents == 0
    assert analysis.shortage_cents == 0
    assert analysis.monthly_escrow_payments_cents == (40_000,) * 12


def test_exactly_50_dollars_is_refunded():
    analysis = analyze(145_000)
    assert (analysis.surplus_cents, analysis.surplus_refund_cents) == (5_000, 5_000)


def test_a_surplus_under_50_dollars_is_credited_against_the_coming_payments():
    analysis = analyze(144_000)  # surplus 40.00
    assert analysis.surplus_cents == 4_000
    assert analysis.surplus_refund_cents == 0
    assert analysis.surplus_credit_cents == 4_000
    assert analysis.new_monthly_escrow_cents == 40_000 - 334
    assert 12 * 40_000 - sum(analysis.monthly_escrow_payments_cents) == 4_000


def test_a_delinquent_borrower_is_not_refunded_a_surplus():
    analysis = analyze(150_000, borrower_current=False)
    assert analysis.surplus_cents == 10_000
    assert analysis.surplus_refund_cents == 0
    assert analysis.surplus_credit_cents == 10_000


def test_the_base_payment_rounds_up_so_twelve_deposits_cover_the_year():
    items = (EscrowAnalysisItem(name="flood insurance", annual_amount_cents=10_001,
                                disbursement_dates=(date(2026, 9, 1),)),)
    analysis = analyze_escrow(escrow_balance_cents=0, items=items, computation_year_start=YEAR, borrower_current=True)
    assert analysis.base_monthly_escrow_cents == 834
    assert 12 * analysis.base_monthly_escrow_cents >= 10_001
    assert analysis.cushion_cents == 1_666  # 1666.83 rounded down


def test_an_item_paid_in_installments_splits_its_annual_amount_exactly():
    dates = (date(2026, 11, 1), date(2026, 5, 1))
    items = (EscrowAnalysisItem(name="tax", annual_amount_cents=100_001, disbursement_dates=dates),)
    analysis = analyze_escrow(escrow_balance_cents=0, items=items, computation_year_start=YEAR, borrower_current=True)
    paid = {m.month_start.month: m.disbursements_cents for m in analysis.projection if m.disbursements_cents}
    assert paid == {5: 50_001, 11: 50_000}


def test_a_smaller_cushion_is_allowed_and_a_larger_one_is_refused():
    assert analyze(100_000, cushion_cents=0).cushion_cents == 0
    assert analyze(100_000, cushion_cents=0).surplus_cents == 40_000
    assert analyze(100_000, cushion_cents=80_000).cushion_cents == 80_000
    with pytest.raises(ValueError, match="exceeds one sixth"):
        analyze(100_000, cushion_cents=80_001)


def test_no_items_means_no_payment_and_the_balance_is_surplus():
    analysis = analyze_escrow(escrow_balance_cents=3_000, items=(), computation_year_start=YEAR, borrower_current=True)
    assert (analysis.annual_disbursements_cents, analysis.cushion_cents, analysis.base_monthly_escrow_cents) == (0, 0, 0)
    assert analysis.surplus_credit_cents == 3_000
    # A credit cannot push the payment below zero; it stays in the account for the next analysis.
    assert analysis.monthly_escrow_payments_cents == (0,) * 12


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"items": (EscrowAnalysisItem(name="tax", annual_amount_cents=1,
                                       disbursement_dates=(date(2027, 1, 1),)),)}, "outside"),
        ({"items": (EscrowAnalysisItem(name="tax", annual_amount_cents=1,
                                       disbursement_dates=(date(2025, 12, 31),)),)}, "outside"),
        ({"items": ("tax",)}, "EscrowAnalysisItem"),
        ({"escrow_balance_cents": 100.0}, "escrow_balance_cents"),
        ({"computation_year_start": datetime(2026, 1, 1)}, "computation_year_start"),
        ({"borrower_current": 1}, "borrower_current"),
        ({"shortage_months": 6}, "12 months or more"),
        ({"cushion_cents": -1}, "cushion_cents"),
    ],
)
def test_impossible_analyses_are_refused(kwargs, message):
    arguments = {"escrow_balance_cents": 0, "items": ITEMS, "computation_year_start": YEAR, "borrower_current": True}
    with pytest.raises(ValueError, match=message):
        analyze_escrow(**(arguments | kwargs))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"name": " "},
        {"annual_amount_cents": -1},
        {"annual_amount_cents": 10.5},
        {"disbursement_dates": ()},
        {"disbursement_dates": [date(2026, 6, 1)]},
        {"disbursement_dates": (date(2026, 6, 1), date(2026, 6, 1))},
    ],
)
def test_impossible_items_are_refused(kwargs):
    with pytest.raises(ValueError):
        EscrowAnalysisItem(
            **({"name": "tax", "annual_amount_cents": 100, "disbursement_dates": (date(2026, 6, 1),)} | kwargs))


@st.composite
def escrow_items(draw) -> tuple[EscrowAnalysisItem, ...]:
    items = []
    for number in range(draw(st.integers(min_value=0, max_value=4))):
        months = draw(st.lists(st.integers(min_value=0, max_value=11), min_size=1, max_size=4, unique=True))
        day = draw(st.integers(min_value=1, max_value=28))
        dates = tuple((YEAR + relativedelta(months=m)).replace(day=day) for m in months)
        annual = draw(st.integers(min_value=0, max_value=2_000_000))
        items.append(EscrowAnalysisItem(name=f"item {number}", annual_amount_cents=annual, disbursement_dates=dates))
    return tuple(items)


def reproject_low_point(analysis: EscrowAnalysis, opening_cents: int) -> int:
    balance, low = opening_cents, None
    for month, payment in zip(analysis.projection, analysis.monthly_escrow_payments_cents, strict=True):
        balance += payment - month.disbursements_cents
        low = balance if low is None else min(low, balance)
    return low


@given(items=escrow_items(), opening=st.integers(min_value=-500_000, max_value=3_000_000), current=st.booleans())
def test_analysis_invariants(items, opening, current):
    analysis = analyze_escrow(
        escrow_balance_cents=opening, items=items, computation_year_start=YEAR, borrower_current=current
    )
    annual = analysis.annual_disbursements_cents
    assert annual == sum(item.annual_amount_cents for item in items)
    assert 6 * analysis.cushion_cents <= annual  # never above one sixth
    assert 12 * analysis.base_monthly_escrow_cents >= annual > 12 * (analysis.base_monthly_escrow_cents - 1)
    assert analysis.shortage_cents - analysis.surplus_cents == analysis.cushion_cents - analysis.projected_low_point_cents
    assert analysis.shortage_cents == 0 or analysis.surplus_cents == 0
    assert analysis.deficiency_cents == max(-analysis.projected_low_point_cents, 0)
    assert analysis.surplus_refund_cents + analysis.surplus_credit_cents == analysis.surplus_cents
    if analysis.surplus_refund_cents:
        assert current and analysis.surplus_refund_cents >= 5_000
    assert all(payment >= 0 for payment in analysis.monthly_escrow_payments_cents)
    extra = sum(analysis.monthly_escrow_payments_cents) - 12 * analysis.base_monthly_escrow_cents
    if analysis.shortage_cents:
        assert extra == analysis.shortage_cents  # collected exactly within the year
    else:
        # Refunding or crediting the surplus never takes a month-end balance below the cushion.
        assert -analysis.surplus_credit_cents <= extra <= 0
        assert reproject_low_point(analysis, opening - analysis.surplus_refund_cents) >= analysis.cushion_cents
