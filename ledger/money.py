"""Money primitives shared by every app: integer cents, rounding, exact splits.

Amounts are integer cents everywhere. Rounding happens once, at a stated
place, half-up to the cent; splits use the largest-remainder method so the
parts always add up to the whole.
"""
from __future__ import annotations

from collections.abc import Hashable, Sequence
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
# Beyond this an amount is a typo or an attack, not a mortgage (10 trillion dollars).
MAX_ABS_CENTS = 10**15


class MoneyFormatError(ValueError):
    """A text that should hold an amount of money does not."""


def round_half_up(value: Decimal) -> int:
    """Round a Decimal number of cents to a whole cent, halves away from zero."""
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def cents_from_dollars(text: str | Decimal | int) -> int:
    """Parse dollars with at most two decimals ("4995.50") into integer cents.

    Never rounds: an amount with fractions of a cent is an error, because a
    silently rounded input is a silently changed one.
    """
    if isinstance(text, float):
        raise MoneyFormatError("amounts must not be floats; pass a string like '4995.50'")
    raw = str(text).strip().replace(",", "") if not isinstance(text, Decimal) else text
    shown = _shown(text)
    try:
        amount = Decimal(raw)
    except (InvalidOperation, ValueError):
        raise MoneyFormatError(f"{shown} is not an amount in dollars") from None
    if not amount.is_finite():
        raise MoneyFormatError(f"{shown} is not an amount in dollars")
    # Checked before multiplying: "1e999999999" * 100 overflows the decimal context (decimal.Overflow).
    if amount.adjusted() > 15:
        raise MoneyFormatError(f"{shown} is out of range")
    cents = amount * 100
    if cents != cents.to_integral_value():
        raise MoneyFormatError(f"{shown} has fractions of a cent")
    if abs(cents) > MAX_ABS_CENTS:
        raise MoneyFormatError(f"{shown} is out of range")
    return int(cents)


def _shown(text) -> str:
    """The text as an error message quotes it: a 400-digit number is named, not copied out."""
    shown = repr(text)
    return shown if len(shown) <= 60 else f"{shown[:40]}... ({len(str(text))} characters)"


def dollars(cents: int) -> str:
    """Integer cents as a dollar string with two decimals: 499955 -> '4999.55'."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{whole}.{part:02d}"


def dollars_grouped(cents: int) -> str:
    """Integer cents as dollars with thousands separators, for people: '1,000,000.00'."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{whole:,}.{part:02d}"


def monthly_rate_amount(balance_cents: int, annual_rate_percent: Decimal) -> int:
    """One month of an annual percentage rate on a balance (30/360), half-up to the cent."""
    return round_half_up(Decimal(balance_cents) * Decimal(annual_rate_percent) / Decimal(1200))


def allocate(total_cents: int, weights: Sequence[int], keys: Sequence[Hashable] | None = None) -> list[int]:
    """Split total_cents in proportion to integer weights, exactly.

    Largest-remainder method: everyone gets the floor of their exact share,
    then the cents left over go one each to the largest fractional remainders;
    ties go to the smaller key (by default the position), so the result is
    deterministic. The parts always sum to total_cents. A negative total is
    split as the mirror image of its absolute value.
    """
    if len(weights) == 0:
        if total_cents != 0:
            raise ValueError("cannot allocate a non-zero amount over no weights")
        return []
    if any(w < 0 for w in weights):
        raise ValueError("weights must not be negative")
    weight_sum = sum(weights)
    if weight_sum == 0:
        if total_cents != 0:
            raise ValueError("cannot allocate a non-zero amount over zero weights")
        return [0] * len(weights)
    if total_cents < 0:
        return [-part for part in allocate(-total_cents, weights, keys)]
    keys = list(range(len(weights))) if keys is None else list(keys)
    if len(keys) != len(weights):
        raise ValueError("one key per weight")
    floors = [total_cents * w // weight_sum for w in weights]
    remainders = [total_cents * w % weight_sum for w in weights]
    left = total_cents - sum(floors)
    order = sorted(range(len(weights)), key=lambda i: (-remainders[i], keys[i]))
    for i in order[:left]:
        floors[i] += 1
    return floors
