"""The clean-up call's pure rule: eligible strictly below percent x cut-off balance, exactly; the price adds up."""
from decimal import Decimal
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from trusts.domain.cleanup_call import CallEligibility, LoanPrice, call_price


def test_below_the_threshold_is_eligible_at_it_is_not():
    # 10% of 100,000,000 cents is 10,000,000.
    assert CallEligibility(pool_balance_cents=9_999_999, cutoff_balance_cents=100_000_000,
                           percent=Decimal(10)).eligible
    at = CallEligibility(pool_balance_cents=10_000_000, cutoff_balance_cents=100_000_000, percent=Decimal(10))
    assert not at.eligible
    assert at.problem() == ("the pool's balance of 10000000 cents is not below 10% of its cut-off balance of "
                            "100000000 cents (10000000 cents)")


def test_a_fractional_threshold_is_compared_exactly():
    # 12.5% of 1,000,001 cents is 125,000.125 cents: 125,000 is below it, 125,001 is not.
    below = CallEligibility(pool_balance_cents=125_000, cutoff_balance_cents=1_000_001, percent=Decimal("12.5"))
    above = CallEligibility(pool_balance_cents=125_001, cutoff_balance_cents=1_000_001, percent=Decimal("12.5"))
    assert below.eligible and below.problem() is None
    assert not above.eligible
    assert "(125000.125 cents)" in above.problem()


@given(balance=st.integers(0, 10**14), cutoff=st.integers(1, 10**14),
       percent=st.decimals(min_value=Decimal("0.01"), max_value=Decimal(50), places=4))
def test_eligible_exactly_when_the_balance_is_below_the_percent_of_the_cutoff(balance, cutoff, percent):
    rule = CallEligibility(pool_balance_cents=balance, cutoff_balance_cents=cutoff, percent=percent)
    assert rule.eligible == (Fraction(balance) < Fraction(percent) * cutoff / 100)
    assert (rule.problem() is None) == rule.eligible


@given(st.lists(st.tuples(st.integers(0, 10**10), st.integers(0, 10**8)), min_size=1, max_size=30))
def test_the_price_is_every_loan_at_par_plus_its_interest(figures):
    prices = [LoanPrice(f"L{i:04d}", p, i_) for i, (p, i_) in enumerate(reversed(figures))]
    price = call_price(prices)
    assert price.loans == tuple(sorted(p.loan_number for p in prices))
    assert price.principal_cents == sum(p for p, _ in figures)
    assert price.interest_cents == sum(i for _, i in figures)
    assert price.total_cents == price.principal_cents + price.interest_cents
