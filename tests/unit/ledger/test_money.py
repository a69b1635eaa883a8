"""Money primitives: parsing, formatting, rounding and exact splits."""
from decimal import Decimal
from fractions import Fraction

import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ledger.domain.money import (
    MAX_ABS_CENTS, CentsError, MoneyFormatError, NumberFormatError, TooManyDecimals, allocate, cents_from_dollars,
    decimal_from_text, dollars, dollars_grouped, monthly_rate_amount, require_cents, round_half_up,
    round_ratio_half_up,
)

# A comma is in a right thousands place when it follows 1-3 leading digits (no leading zero) or another
# group, and is followed by exactly three digits and then a comma, a '.' or the end.
WELL_GROUPED = re.compile(r"-?[1-9][0-9]{0,2}(,[0-9]{3})*(\.[0-9]{1,2})?")
CHARS = st.sampled_from("0123456789,.,-e")
PROPERTY = settings(max_examples=200, deadline=None, database=None, derandomize=True)


@pytest.mark.parametrize("text, cents", [("4995.50", 499550), ("0.01", 1), ("1,000,000.00", 100000000),
                                         ("1,234,567.89", 123456789), ("999.5", 99950), ("7", 700),
                                         (" 12.00 ", 1200), ("0", 0), (Decimal("5.50"), 550), (5, 500)])
def test_parse_dollars(text, cents):
    assert cents_from_dollars(text) == cents


def test_a_minus_only_where_the_caller_takes_negatives():
    assert cents_from_dollars("-2.5", negative=True) == -250
    assert cents_from_dollars("-1,000.00", negative=True) == -100000
    for value in ("-2.5", "-0.01", Decimal("-1"), -5):
        with pytest.raises(MoneyFormatError, match="is negative"):
            cents_from_dollars(value)


@pytest.mark.parametrize("text, reason", [
    ("12.345", "fractions of a cent"), ("12.340", "more than two decimals"), ("abc", "not an amount"),
    ("NaN", "not an amount"), ("Infinity", "not an amount"), ("-Infinity", "not an amount"), ("", "not an amount"),
    # The independent trial's findings: a decimal comma posted as thousands, bad grouping, an exponent.
    ("599,55", "looks like a decimal comma"), ("1.234,56", "looks like a decimal comma"),
    ("1,000,000,00", "looks like a decimal comma"), ("-599,5", "looks like a decimal comma"),
    ("1,0,0.00", "commas must separate thousands"), ("12,34.00", "commas must separate thousands"),
    (",5", "decimal comma"), ("1,,000", "commas must separate thousands"), ("0,123.00", "commas must separate"),
    ("1,000,00.00", "commas must separate thousands"), ("1000,000.00", "commas must separate thousands"),
    ("5.9955E+02", "without an exponent"), ("1e30", "without an exponent"), ("1E5", "without an exponent"),
    ("+5.00", "not an amount"), ("1 000.00", "not an amount"), ("12. 00", "not an amount"), ("\u0665", "not an amount"),
    ("\uff15.00", "not an amount"), (".50", "not an amount"), ("5.", "not an amount"), ("$5.00", "not an amount"),
    ("--5", "not an amount"), ("9" * 41, "out of range"), ("100000000000000.00", "out of range"),
])
def test_bad_amounts_are_refused_not_rounded(text, reason):
    with pytest.raises(MoneyFormatError, match=reason):
        cents_from_dollars(text, negative=True)


def test_bools_and_other_types_are_refused():
    for value in (True, None, [1], b"5.00"):
        with pytest.raises(MoneyFormatError):
            cents_from_dollars(value)


@PROPERTY
@given(st.integers(-MAX_ABS_CENTS, MAX_ABS_CENTS))
def test_what_dollars_writes_parses_back_to_the_same_cents(cents):
    for text in (dollars(cents), dollars_grouped(cents)):
        assert cents_from_dollars(text, negative=True) == cents
        assert cents_from_dollars(f" {text}\t", negative=True) == cents


@PROPERTY
@given(st.text(CHARS, min_size=1, max_size=16))
@example("599,55")
@example("1,0,0.00")
@example("12,34.00")
def test_a_comma_out_of_its_thousands_place_is_refused(text):
    if "," not in text or WELL_GROUPED.fullmatch(text):
        return
    with pytest.raises(MoneyFormatError):
        cents_from_dollars(text, negative=True)


@PROPERTY
@given(st.integers(0, 10**9), st.integers(0, 99), st.sampled_from("eE"), st.sampled_from(("", "+", "-")),
       st.integers(0, 30))
def test_an_exponent_is_refused(whole, part, e, sign, power):
    with pytest.raises(MoneyFormatError, match="exponent"):
        cents_from_dollars(f"{whole}.{part:02d}{e}{sign}{power}", negative=True)


@PROPERTY
@given(st.text(max_size=20))
def test_anything_accepted_is_the_grammar(text):
    """Whatever is accepted is ASCII digits with commas in place, a '.' and at most two decimals."""
    try:
        cents = cents_from_dollars(text, negative=True)
    except MoneyFormatError:
        return
    shape = re.compile(r"-?([0-9]+|[1-9][0-9]{0,2}(,[0-9]{3})+)(\.[0-9]{1,2})?")
    assert shape.fullmatch(text.strip()) and abs(cents) <= MAX_ABS_CENTS


def test_decimals_as_written_with_at_most_the_kept_places():
    assert decimal_from_text("6.125", places=4) == Decimal("6.125")
    assert decimal_from_text(" 0.6000 ", places=4) == Decimal("0.6") and decimal_from_text(5, places=4) == 5
    with pytest.raises(TooManyDecimals, match="more than 4 decimals"):
        decimal_from_text("6.12345", places=4)
    for bad in ("6e0", "6,5", "NaN", "+6", "-6", "", "6.", True, 6.5, None, "\u0666"):
        with pytest.raises(NumberFormatError):
            decimal_from_text(bad, places=4)


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


# ------------------------------------------------- the one check of integer cents handed over by code

NOT_INTS = st.one_of(st.booleans(), st.floats(allow_nan=True), st.text(max_size=12),
                     st.decimals(allow_nan=False, allow_infinity=False), st.none(), st.just(b"5"),
                     st.fractions())


@PROPERTY
@given(value=st.integers(-2 * MAX_ABS_CENTS, 2 * MAX_ABS_CENTS), negative=st.booleans(), zero=st.booleans())
@example(value=MAX_ABS_CENTS, negative=False, zero=True)
@example(value=MAX_ABS_CENTS + 1, negative=False, zero=True)
@example(value=-MAX_ABS_CENTS, negative=True, zero=True)
@example(value=-MAX_ABS_CENTS - 1, negative=True, zero=True)
@example(value=0, negative=True, zero=False)
@example(value=0, negative=False, zero=False)
@example(value=-1, negative=False, zero=True)
def test_require_cents_accepts_exactly_the_ints_in_range(value, negative, zero):
    taken = abs(value) <= MAX_ABS_CENTS and (negative or value >= 0) and (zero or value != 0)
    if taken:
        assert require_cents(value, "x", negative=negative, zero=zero) == value
    else:
        with pytest.raises(CentsError, match=r"^x "):
            require_cents(value, "x", negative=negative, zero=zero)


@PROPERTY
@given(value=NOT_INTS, negative=st.booleans(), zero=st.booleans())
def test_require_cents_refuses_bools_floats_strings_and_decimals(value, negative, zero):
    with pytest.raises(CentsError, match="must be integer cents"):
        require_cents(value, "amount", negative=negative, zero=zero)


@pytest.mark.parametrize("value, kwargs, message", [
    (-1, {}, "gross proceeds -1 must be integer cents of zero or more"),
    (0, {"zero": False}, "gross proceeds 0 must be integer cents above zero"),
    (0, {"zero": False, "negative": True}, "gross proceeds 0 must be integer cents other than zero"),
    (10.5, {}, "gross proceeds 10.5 must be integer cents of zero or more"),
    (True, {"negative": True}, "gross proceeds True must be integer cents"),
    ("5.00", {"zero": False}, "gross proceeds '5.00' must be integer cents above zero"),
    (MAX_ABS_CENTS + 1, {}, f"gross proceeds {MAX_ABS_CENTS + 1} is out of range"),
])
def test_require_cents_names_the_amount_and_the_rule(value, kwargs, message):
    with pytest.raises(CentsError) as refused:
        require_cents(value, "gross proceeds", **kwargs)
    assert str(refused.value).startswith(message)
    assert isinstance(refused.value, ValueError)


# ------------------------------------------------- the one rounding of money: half up, on exact values

@PROPERTY
@given(numerator=st.integers(-10**20, 10**20), denominator=st.integers(1, 10**9))
def test_round_half_up_of_an_exact_ratio(numerator, denominator):
    exact = Fraction(numerator, denominator)
    rounded = round_half_up(exact)
    assert abs(exact - rounded) <= Fraction(1, 2)
    if abs(exact - rounded) == Fraction(1, 2):
        assert abs(rounded) > abs(exact)  # a half goes away from zero, never to the even neighbour
    # The Decimal path gives the same cent when the Decimal is exact, and so does the ratio of ints.
    if denominator in (1, 2, 4, 5, 8, 10, 100, 1000):
        assert round_half_up(Decimal(numerator) / Decimal(denominator)) == rounded
    assert round_ratio_half_up(numerator, denominator) == rounded == round_ratio_half_up(-numerator, -denominator)


@pytest.mark.parametrize("value, cents", [
    (Fraction(5, 2), 3), (Fraction(-5, 2), -3), (Fraction(7, 2), 4), (Decimal("12.5"), 13), (Decimal("-0.5"), -1),
    (Fraction(249, 100), 2), (7, 7), (Fraction(1, 3), 0),
])
def test_halves_go_away_from_zero_where_round_would_go_to_even(value, cents):
    assert round_half_up(value) == cents


@pytest.mark.parametrize("value", [0.5, 2.5, True, "1.5", None])
def test_round_half_up_refuses_inexact_or_non_numbers(value):
    with pytest.raises(TypeError):
        round_half_up(value)
    with pytest.raises(TypeError):
        round_ratio_half_up(value, 1)
    with pytest.raises(TypeError):
        round_ratio_half_up(1, 0)
