"""From full precision to cents: the servicing's own split, exact conservation, the last cent cleared."""
from dataclasses import replace
from datetime import date
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.domain.cents import paid_months, to_cents
from analytics.domain.collateral import Repline, project_repline
from analytics.domain.defaults import NO_DEFAULTS, default_scenario
from analytics.domain.prepayment import constant
from analytics.domain.deal_projection import project
from analytics.domain.scenarios import POOL, PoolTerms, pool_deal
from servicing.domain.amortization import level_payment_cents, schedule, scheduled_split


def loan(balance_cents, rate, payment_cents, term=360, age=0):
    return Repline(name="L", balance=balance_cents / 100, gross_wac=Decimal(rate), net_wac=Decimal(rate) - 1,
                   term=term, age=age, payment=payment_cents / 100)


def test_with_no_prepayments_a_loan_pays_exactly_the_servicing_schedule():
    installments = schedule(principal_cents=10_000_000, note_rate=Decimal(6), term_months=360,
                            first_payment_date=date(2026, 2, 1))
    repline = loan(10_000_000, 6, installments[0].payment_cents)
    paid = paid_months(project_repline(repline, constant("cpr", 0)), balance_cents=10_000_000,
                       gross_wac=Decimal(6))
    assert [(p.interest_cents, p.scheduled_principal_cents) for p in paid] == [
        (i.interest_cents, i.principal_cents) for i in installments]


def test_the_first_installment_splits_as_the_servicing_splits_it_even_on_a_half_cent():
    balance = 10_000_100  # 100,001.00 at 6%: a month's interest is exactly 500.005
    payment = level_payment_cents(principal_cents=balance, note_rate=Decimal(6), term_months=360)
    first = paid_months(project_repline(loan(balance, 6, payment), constant("psa", 300)), balance_cents=balance,
                        gross_wac=Decimal(6))[0]
    interest, principal = scheduled_split(balance_cents=balance, note_rate=Decimal(6),
                                          payment_cents=payment)
    assert (first.interest_cents, first.scheduled_principal_cents) == (interest, principal)
    assert interest == 50_001  # the half cent rounds up, as monthly_rate_amount rounds it
    assert first.payment_cents == payment


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=100_000, max_value=5_000_000_000), st.decimals(min_value=0, max_value=10, places=2),
       st.floats(min_value=0, max_value=40), st.floats(min_value=0, max_value=20),
       st.integers(min_value=0, max_value=12), st.booleans())
def test_every_month_adds_up_in_cents_and_the_last_clears_the_balance(balance, rate, cpr, cdr, lag, advance):
    repline = Repline(name="P", balance=balance / 100, gross_wac=rate, net_wac=rate, term=240, age=0)
    defaults = default_scenario("cdr", [cdr], severity=40, lag=lag, advance=advance) if cdr else NO_DEFAULTS
    paid = paid_months(project_repline(repline, constant("cpr", cpr), defaults), balance_cents=balance,
                       gross_wac=rate)
    for p in paid:
        parts = p.scheduled_principal_cents + p.prepayment_cents + p.recovery_cents + p.loss_cents
        assert p.balance_begin_cents == parts + p.balance_end_cents
        assert min(parts, p.balance_end_cents, p.interest_cents, p.interest_bearing_cents) >= 0
    assert paid[-1].balance_end_cents == 0
    assert sum(p.principal_cents + p.loss_cents for p in paid) == balance


def test_months_before_the_first_installment_collect_nothing():
    repline = Repline(name="L", balance=100_000.0, gross_wac=Decimal(6), net_wac=Decimal(5), term=360, age=0,
                      payment=599.55, lead=2)
    paid = paid_months(project_repline(repline, constant("cpr", 12)), balance_cents=10_000_000,
                       gross_wac=Decimal(6))
    for idle in paid[:2]:
        assert (idle.interest_cents, idle.principal_cents, idle.balance_end_cents) == (0, 0, 10_000_000)
    assert (paid[2].interest_cents, paid[2].scheduled_principal_cents) == (50_000, 9_955)


def test_a_projection_rounds_its_dollars_to_cents_half_up_on_the_exact_value():
    # 0.125 and 0.375 dollars are exact in binary: half a cent each, which round() would send to the even cent.
    assert (to_cents(0.125), to_cents(0.375), to_cents(-0.125)) == (13, 38, -13)
    assert (round(0.125 * 100), round(0.375 * 100)) == (12, 38)  # what the projection used to do
    # A balance that came from cents goes back to the same cents.
    assert all(to_cents(cents / 100) == cents for cents in (1, 10, 99_999_999, 123_456_789_01))


def test_the_projection_starts_each_repline_from_its_cents():
    repline = Repline(name=POOL, balance=1_000.125, gross_wac=Decimal(6), net_wac=Decimal(5), term=360, age=0)
    deal = pool_deal(PoolTerms(balance_cents=100_013, gross_wac=Decimal(6), net_wac=Decimal(5), term=360, age=0), ())
    projected = project(replace(deal, replines=(repline,)), constant("cpr", 0))
    assert projected.months[0].total("balance_begin_cents") == 100_013  # half up, not round()'s 100_012
