"""The statement's arithmetic: per $1,000 exactly, every split summing to its whole, the pool's make-up."""
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, strategies as st

from remittance.domain.statement_figures import (
    PRINCIPAL_KINDS, UNPLACED, LoanAtEnd, class_rate, collateral_summary, credit_enhancement, delinquency_table,
    holder_shares, per_thousand, pool_principal_by_kind, principal_split,
)

cents = st.integers(min_value=0, max_value=10 ** 13)
faces = st.integers(min_value=1, max_value=10 ** 13)


@given(cents, faces)
def test_per_thousand_is_the_exact_ratio_rounded_half_up_at_8_decimals(amount, face):
    text = per_thousand(amount, face)
    whole, decimals = text.split(".")
    assert len(decimals) == 8
    exact = Fraction(amount * 1000, face)  # dollars per $1,000: (amount / 100) * 1000 / (face / 100)
    assert abs(Fraction(Decimal(text)) - exact) <= Fraction(1, 2 * 10 ** 8)


def test_per_thousand_worked_examples():
    assert per_thousand(99_550, 100_000_000) == "0.99550000"  # $995.50 on a $1,000,000 class
    assert per_thousand(1, 300) == "3.33333333" and per_thousand(2, 300) == "6.66666667"  # half up
    with pytest.raises(ValueError, match="above zero"):
        per_thousand(1, 0)


@given(st.integers(-10 ** 9, 10 ** 12), st.lists(st.integers(-10 ** 9, 10 ** 9), min_size=3, max_size=3))
def test_a_class_principal_split_by_kind_sums_to_it(principal, weights):
    split = principal_split(principal, dict(zip(PRINCIPAL_KINDS, weights)))
    assert list(split) == list(PRINCIPAL_KINDS) and sum(split.values()) == principal


def test_principal_with_no_pool_principal_is_scheduled():
    assert principal_split(500, {"scheduled": 0, "prepaid": 0, "liquidated": 0}) == {
        "scheduled": 500, "prepaid": 0, "liquidated": 0}
    assert principal_split(100, {"scheduled": 1, "prepaid": 2, "liquidated": 1}) == {
        "scheduled": 25, "prepaid": 50, "liquidated": 25}


def test_the_pools_kinds():
    collected = {"scheduled_principal": 10, "curtailment": 1, "payoff_principal": 2, "repurchase_principal": 3,
                 "liquidation_principal": 4, "interest": 99, "realized_loss": 7}
    assert pool_principal_by_kind(collected) == {"scheduled": 10, "prepaid": 6, "liquidated": 4}


@given(cents, st.dictionaries(st.sampled_from([f"INV-{n:02d}" for n in range(20)]), faces, max_size=8),
       st.integers(0, 10 ** 12))
def test_holders_shares_and_the_unplaced_bonds_sum_to_the_class_figure(amount, held, unplaced):
    original = sum(held.values()) + unplaced
    if original == 0:
        return
    shares = holder_shares(amount, held, original)
    assert sum(shares.values()) == amount
    assert set(shares) == set(held) | ({UNPLACED} if unplaced else set())


def test_holders_cannot_hold_more_than_the_face():
    with pytest.raises(ValueError, match="more than the class's original face"):
        holder_shares(100, {"INV-01": 200}, 100)


def test_the_rate_paid():
    assert class_rate("4.25", interest_paid_cents=1, balance_begin_cents=1) == "4.2500"
    # A net-WAC class paid $5,000 on $1,000,000 in a month: 6% a year.
    assert class_rate("net-wac", interest_paid_cents=500_000, balance_begin_cents=100_000_000) == "6.0000"
    assert class_rate("net-wac", interest_paid_cents=0, balance_begin_cents=0) == "0.0000"


def loan(number, balance, rate="6", term=360, age=10, status="active", bucket="current", chapter=None):
    return LoanAtEnd(loan_number=number, balance_cents=balance, note_rate=Decimal(rate), term_months=term,
                     age_months=age, status=status, bucket=bucket, bankruptcy_chapter=chapter)


def test_the_collateral_weighted_by_balance():
    summary = collateral_summary([loan("L1", 300, rate="6", age=10), loan("L2", 100, rate="5", age=30),
                                  loan("L3", 0, rate="9", age=99)])
    assert summary == {"loan_count": 2, "balance_cents": 400, "wac": "5.7500", "wam": "345.0", "wala": "15.0",
                       "average_balance_cents": 200}
    assert collateral_summary([])["wac"] == "0.0000"


def test_each_loan_is_in_one_row_of_the_delinquency_table():
    loans = [loan("L1", 100), loan("L2", 200, bucket="30"), loan("L3", 300, bucket="90+", status="foreclosure"),
             loan("L4", 400, status="reo", bucket="90+"), loan("L5", 500, bucket="60", chapter=13),
             loan("L6", 0, bucket="90+")]
    table = {row["status"]: (row["count"], row["balance_cents"]) for row in delinquency_table(loans)}
    assert table == {"current": (1, 100), "30": (1, 200), "60": (0, 0), "90+": (0, 0), "foreclosure": (1, 300),
                     "reo": (1, 400), "bankruptcy": (1, 500)}
    assert [row["percent"] for row in delinquency_table(loans)][:2] == ["6.6667", "13.3333"]


def test_credit_enhancement_is_the_junior_classes_and_the_overcollateral():
    classes = [("A", 1, 800), ("M", 2, 100), ("B", 3, 50)]
    assert credit_enhancement(classes, 1000) == {"A": "20.0000", "M": "10.0000", "B": "5.0000"}
    assert credit_enhancement([("A", 1, 0)], 0) == {"A": "0.0000"}
