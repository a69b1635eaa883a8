"""Money primitives: parsing, formatting, rounding and exact splits."""
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.money import MoneyFormatError, allocate, cents_from_dollars, dollars, monthly_rate_amount, round_half_up


@pytest.mark.parametrize("text, cents", [("4995.50", 499550), ("0.01", 1), ("1,000,000.00", 100000000), ("-2.5", -250),
                                         ("7", 700)])
def test_parse_dollars(text, cents):
    assert cents_from_dollars(text) == cents


@pytest.mark.parametrize("text, reason", [("12.345", "fractions of a cent"), ("abc", "not an amount"),
                                          ("NaN", "not an amount"), ("1e30", "out of range"), ("", "not an amount")])
def test_bad_amounts_are_refused_not_rounded(text, reason):
    with pytest.raises(MoneyFormatError, match=reason):
        cents_from_dollars(text)


def test_floats_are_refused():
    with pytest.raises(MoneyFormatError, match="float"):
        cents_from_dollars(0.1)


def test_format_and_round():
    assert dollars(499955) == "4999.55" and dollars(-5) == "-0.05" and dollars(0) == "0.00"
    assert round_half_up(Decimal("0.5")) == 1 and round_half_up(Decimal("-0.5")) == -1
    assert round_half_up(Decimal("1.49")) == 1
    assert monthly_rate_amount(10_000_000, Decimal("6")) == 50_000
    assert monthly_rate_amount(100_000_000, Decimal("5")) == 416_667  # the seed's 4,166.67


def test_allocate_seed_investors():
    assert allocate(499_550, [100] * 10) == [49_955] * 10
    assert allocate(10, [1, 1, 1]) == [4, 3, 3]  # the odd cent to the first by the tie-break
    assert allocate(10, [1, 1, 1], keys=["c", "b", "a"]) == [3, 3, 4]


@given(st.integers(-10**12, 10**12), st.lists(st.integers(0, 10**9), min_size=1, max_size=30).filter(any))
def test_allocation_sums_to_the_whole_and_is_within_a_cent(total, weights):
    parts = allocate(total, weights)
    assert sum(parts) == total
    for part, weight in zip(parts, weights):
        assert abs(part - total * weight / sum(weights)) < 1
