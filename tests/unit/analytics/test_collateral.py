"""The collateral projection: amortization, the standard's order of defaults and prepayments, conservation."""
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.domain.collateral import (
    Repline,
    amortized_balance,
    project_repline,
    scheduled_path,
)
from analytics.domain.defaults import NO_DEFAULTS, default_scenario
from analytics.domain.prepayment import constant, cpr_to_smm


def pool(**changes):
    terms = {"name": "P", "balance": 1_000_000.0, "gross_wac": Decimal("6.5"), "net_wac": Decimal(6), "term": 360,
             "age": 0}
    return Repline(**{**terms, **changes})


def test_the_amortized_balance_is_the_level_payment_schedule():
    assert amortized_balance(8, 360, 0) == 1.0 and amortized_balance(8, 360, 360) == 0.0
    assert amortized_balance(0, 120, 30) == pytest.approx(0.75)
    c = 8 / 1200
    payment = c / (1 - (1 + c) ** -360)
    assert 1 - amortized_balance(8, 360, 1) == pytest.approx(payment - c)


def test_a_contractual_payment_drives_the_schedule_and_the_last_installment_clears_it():
    path = scheduled_path(pool(balance=100_000.0, gross_wac=Decimal(6), payment=599.55))
    assert len(path) == 361 and path[-1] == 0.0
    assert path[1] * 100_000 == pytest.approx(100_000 - 99.55)
    short = scheduled_path(pool(balance=50_000.0, gross_wac=Decimal(6), payment=599.55))  # curtailed: ends early
    assert len(short) < 361 and short[-1] == 0.0


def test_a_seasoned_pool_starts_at_loan_age_plus_one():
    months = project_repline(pool(age=10), constant("psa", 100))
    first = months[0]
    assert first.smm == pytest.approx(cpr_to_smm(2.2) / 100)  # PSA month 11
    ratio = amortized_balance(6.5, 360, 11) / amortized_balance(6.5, 360, 10)
    assert first.scheduled_principal == pytest.approx(1_000_000 * (1 - ratio))
    assert len(months) == 350


@pytest.mark.parametrize("age", [1, 12, 45])
def test_a_seasoned_pool_continues_the_new_pools_projection(age):
    new = project_repline(pool(), constant("psa", 165))
    seasoned = project_repline(pool(balance=new[age - 1].balance_end, age=age), constant("psa", 165))
    for a, b in zip(new[age:], seasoned):
        assert b.cash_flow == pytest.approx(a.cash_flow, rel=1e-9)


def test_zero_months_to_liquidation_and_zero_severity_pay_defaults_like_prepayments():
    """SF-17 note g: the same principal cash flow as voluntary prepayment, without the month's interest."""
    defaults = default_scenario("mdr", [0.7], severity=0, lag=0, advance=False)
    defaulting = project_repline(pool(), constant("smm", 0), defaults)
    prepaying = project_repline(pool(), constant("smm", 0.7))
    for d, p in zip(defaulting, prepaying):
        assert d.principal == pytest.approx(p.principal)
        assert d.net_interest == pytest.approx(p.net_interest - d.new_defaults * 6 / 1200)


def test_with_advancing_investors_receive_the_expected_interest_and_amortization():
    defaults = default_scenario("cdr", [5], severity=35, lag=6, advance=True)
    months = project_repline(pool(), constant("psa", 100), defaults)
    assert all(m.net_interest == pytest.approx(m.expected_interest) for m in months)
    assert all(m.scheduled_principal == m.expected_amortization for m in months)
    without = project_repline(pool(), constant("psa", 100), default_scenario("cdr", [5], severity=35, lag=6,
                                                                             advance=False))
    assert sum(m.net_interest for m in without) < sum(m.net_interest for m in months)


def test_defaults_and_prepayments_together_cannot_take_more_than_the_performing_balance():
    months = project_repline(pool(), constant("smm", 70), default_scenario("mdr", [60], severity=50, lag=2,
                                                                          advance=True))
    assert all(m.performing_end >= -1e-6 for m in months)
    assert months[0].performing_end == pytest.approx(0, abs=1e-6)


def test_no_defaults_no_prepayments_is_the_schedule():
    months = project_repline(pool(), constant("cpr", 0), NO_DEFAULTS)
    assert len(months) == 360 and months[-1].balance_end == pytest.approx(0, abs=1e-6)
    assert sum(m.principal for m in months) == pytest.approx(1_000_000)
    assert all(m.servicing_fee == pytest.approx(m.balance_begin * 0.5 / 1200) for m in months)


def test_lead_months_pay_nothing_and_keep_the_balance():
    months = project_repline(pool(lead=2), constant("cpr", 10))
    assert [m.period for m in months[:3]] == [1, 2, 3]
    assert months[0].cash_flow == months[1].cash_flow == 0 and months[1].balance_end == 1_000_000
    assert months[2].smm > 0


scenarios = st.fixed_dictionaries({
    "balance": st.floats(min_value=1_000, max_value=50_000_000),
    "gross": st.decimals(min_value=0, max_value=12, places=3),
    "fee": st.decimals(min_value=0, max_value=1, places=3),
    "term": st.integers(min_value=12, max_value=360),
    "age_share": st.floats(min_value=0, max_value=0.9),
    "cpr": st.floats(min_value=0, max_value=60),
    "cdr": st.floats(min_value=0, max_value=30),
    "severity": st.floats(min_value=0, max_value=100),
    "lag": st.integers(min_value=0, max_value=24),
    "advance": st.booleans(),
})


@settings(max_examples=60, deadline=None)
@given(scenarios)
def test_every_month_conserves_the_balance(s):
    """balance_begin = scheduled + prepaid + recovered + lost + balance_end, and nothing goes negative."""
    net = max(s["gross"] - s["fee"], Decimal(0))
    repline = pool(balance=s["balance"], gross_wac=s["gross"], net_wac=net, term=s["term"],
                   age=int(s["term"] * s["age_share"]))
    defaults = default_scenario("cdr", [s["cdr"]], severity=s["severity"], lag=s["lag"], advance=s["advance"])
    months = project_repline(repline, constant("cpr", s["cpr"]), defaults)
    tolerance = 1e-9 * s["balance"]
    for m in months:
        parts = m.scheduled_principal + m.voluntary_prepayments + m.principal_recovery + m.principal_loss
        assert m.balance_begin == pytest.approx(parts + m.balance_end, abs=tolerance)
        assert min(m.performing_end, m.foreclosure_end, m.principal_recovery, m.voluntary_prepayments) >= -tolerance
    assert months[-1].balance_end == pytest.approx(0, abs=tolerance)
    principal_and_losses = sum(m.principal + m.principal_loss for m in months)
    assert principal_and_losses == pytest.approx(s["balance"], abs=tolerance * 10)
