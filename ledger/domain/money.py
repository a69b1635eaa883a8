"""Money primitives shared by every app: integer cents, parsing, rounding, exact splits.

Amounts are integer cents everywhere; `cents_from_dollars` is the one strict
parser of amounts written by people or files, `decimal_from_text` its
counterpart for rates kept with a fixed number of places, and `require_cents`
the one check of an amount handed over by code. `dollars` and
`dollars_grouped` are the one way to show cents (for files and the API, and
for people). Rounding happens once, at a stated place, half-up (halves away
from zero) to the cent, as the close's interest and fees are rounded and
docs/DOMAIN.md asks ("round money to the cent where it is paid"); never on
floats, never half-even. Splits use the largest-remainder method so the parts
always add up to the whole.
"""
from __future__ import annotations

from collections.abc import Hashable, Sequence
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

CENT = Decimal("0.01")
# Beyond this an amount is a typo or an attack, not a mortgage (10 trillion dollars).
MAX_ABS_CENTS = 10**15


class NumberFormatError(ValueError):
    """A text that should hold a decimal number (an amount, a rate) does not."""


class TooManyDecimals(NumberFormatError):
    """A decimal number written with more places than are kept: refused, never rounded."""


class MoneyFormatError(NumberFormatError):
    """A text that should hold an amount of money does not."""


# The one grammar for amounts typed by people or written in files: ASCII digits, thousands separators
# only in their right places, at most two decimals after a '.', an optional leading '-' where the caller
# takes negatives. No exponent, '+', spaces, decimal comma, NaN or Infinity: Decimal() takes most of
# those, and "599,55" with the commas deleted was posted as 59,955.00. (Read by hand, not by a regular
# expression: this module imports only the standard library's decimal and collections.)
# 1,000,000,000,000.00 with a sign is 22 characters; anything much longer is refused unread.
MAX_AMOUNT_LENGTH = 40


def _digits(text: str) -> bool:
    """ASCII digits only, at least one: str.isdigit() alone takes '\u0665' and '\u00b2'."""
    return bool(text) and text.isascii() and text.isdigit()


def _split_number(text: str, *, grouped: bool) -> tuple[bool, str, str] | None:
    """(negative, whole digits, decimal digits) of a number in the grammar, or None if it is not."""
    sign = text.startswith("-")
    body = text[1:] if sign else text
    whole, dot, part = body.partition(".")
    if dot and not _digits(part):
        return None
    if grouped and "," in whole:
        first, *groups = whole.split(",")
        if not (_digits(first) and len(first) <= 3 and first[0] != "0"
                and all(_digits(g) and len(g) == 3 for g in groups)):
            return None
        whole = first + "".join(groups)
    return (sign, whole, part) if _digits(whole) else None


class CentsError(ValueError):
    """A value that code hands over as integer cents is not: a float, a string, a bool, or out of range."""


def require_cents(value: object, what: str, *, negative: bool = False, zero: bool = True) -> int:
    """`value` if it is integer cents that the caller takes, else CentsError naming `what`.

    The one check of an amount passed between functions (text from people and
    files goes through `cents_from_dollars` instead). Exactly the ints within
    MAX_ABS_CENTS pass: a bool is refused although Python counts it an int
    (True is not a cent), and so are floats, Decimals and strings, because an
    amount that arrives as anything but an int was converted somewhere
    without saying how it was rounded. Zero or more by default; `negative=True`
    takes either sign, `zero=False` refuses zero. The message reads
    "<what> <value> must be integer cents of zero or more" (or "above zero",
    "other than zero", nothing for any sign); callers that refuse with their
    own error type wrap it.
    """
    if negative:
        rule = "" if zero else " other than zero"
    else:
        rule = " of zero or more" if zero else " above zero"
    if type(value) is not int or (value < 0 and not negative) or (value == 0 and not zero):
        raise CentsError(f"{what} {_shown(value)} must be integer cents{rule}")
    if abs(value) > MAX_ABS_CENTS:
        raise CentsError(f"{what} {_shown(value)} is out of range (at most {MAX_ABS_CENTS} cents)")
    return value


def round_half_up(value: Decimal | Fraction | int) -> int:
    """Round an exact number of cents to a whole cent, halves away from zero: the one rounding of money.

    Exact values only (a Decimal, or a Fraction such as a ratio of two
    amounts): a float has already been rounded once, to binary, so it is refused.
    """
    if isinstance(value, Decimal):
        return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    if isinstance(value, (Fraction, int)) and not isinstance(value, bool):
        return round_ratio_half_up(value.numerator, value.denominator)
    raise TypeError(f"round_half_up takes an exact Decimal or Fraction of cents, not {type(value).__name__}")


def round_ratio_half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator cents to a whole cent, halves away from zero, in integers only.

    The same rounding as `round_half_up`, for a ratio of amounts (a share of a
    balance, a float's exact value as float.as_integer_ratio() gives it)
    without building a Fraction.
    """
    if type(numerator) is not int or type(denominator) is not int or denominator == 0:
        raise TypeError(f"round_ratio_half_up takes two ints and a denominator other than zero, "
                        f"not {numerator!r} / {denominator!r}")
    if denominator < 0:
        numerator, denominator = -numerator, -denominator
    whole, rest = divmod(abs(numerator), denominator)
    rounded = whole + (2 * rest >= denominator)
    return -rounded if numerator < 0 else rounded


def cents_from_dollars(text: str | Decimal | int, *, negative: bool = False) -> int:
    """Parse dollars with at most two decimals ("4995.50", "4,995.50") into integer cents.

    The one strict parser of amounts for every input (files, API, commands,
    admin forms, deal files). Never rounds: an amount with fractions of a
    cent is an error, because a silently rounded input is a silently changed
    one. A leading '-' is accepted only when the caller takes negatives
    (`negative=True`). Decimals and integers from code are checked the same
    way; floats are refused.
    """
    if isinstance(text, float):
        raise MoneyFormatError("amounts must not be floats; pass a string like '4995.50'")
    if isinstance(text, bool) or not isinstance(text, (str, Decimal, int)):
        raise MoneyFormatError(f"{_shown(text)} is not an amount in dollars")
    if isinstance(text, Decimal):
        return _cents_from_decimal(text, negative=negative)
    raw = str(text).strip()
    shown = _shown(text)
    if len(raw) > MAX_AMOUNT_LENGTH:
        raise MoneyFormatError(f"{shown} is out of range (too long to be an amount)")
    split = _split_number(raw, grouped=True)
    if split is None:
        raise MoneyFormatError(_why_not_an_amount(raw, shown))
    sign, whole, part = split
    if sign and not negative:
        raise MoneyFormatError(f"{shown} is negative; the amount must be zero or more")
    if len(part) > 2:
        raise MoneyFormatError(f"{shown} has fractions of a cent" if part[2:].strip("0")
                               else f"{shown} has more than two decimals (a whole number of cents)")
    cents = int(whole) * 100 + int(part.ljust(2, "0"))
    if cents > MAX_ABS_CENTS:
        raise MoneyFormatError(f"{shown} is out of range")
    return -cents if sign else cents


def _why_not_an_amount(raw: str, shown: str) -> str:
    """The reason a text failed the grammar, as precise as a message can cheaply be."""
    body = raw.removeprefix("-")
    before, comma, cents = body.rpartition(",")
    # "599,55", "1.234,56", "1,000,000,00": one or two digits after the last comma, well-formed before it.
    if comma and _digits(cents) and len(cents) <= 2 and (
            set(before) <= set("0123456789.") or _split_number(before, grouped=True) is not None):
        return (f"{shown} looks like a decimal comma; write dollars with a '.' before the cents "
                f"and commas only between thousands, like 1,234.56")
    if any(c in body for c in "eE") and set(body) <= set("0123456789.,eE+-") and any(c.isdigit() for c in body):
        return f"{shown} is not an amount in dollars: write it in full, without an exponent"
    if "," in raw:
        return (f"{shown} is not an amount in dollars: commas must separate thousands (1,234,567.89), "
                f"three digits after each")
    return f"{shown} is not an amount in dollars"


def _cents_from_decimal(amount: Decimal, *, negative: bool) -> int:
    shown = _shown(amount)
    if not amount.is_finite():
        raise MoneyFormatError(f"{shown} is not an amount in dollars")
    # Checked before multiplying: "1e999999999" * 100 overflows the decimal context (decimal.Overflow).
    if amount.adjusted() > 15:
        raise MoneyFormatError(f"{shown} is out of range")
    if amount.is_signed() and amount != 0 and not negative:
        raise MoneyFormatError(f"{shown} is negative; the amount must be zero or more")
    cents = amount * 100
    if cents != cents.to_integral_value():
        raise MoneyFormatError(f"{shown} has fractions of a cent")
    if abs(cents) > MAX_ABS_CENTS:
        raise MoneyFormatError(f"{shown} is out of range")
    return int(cents)


def _shown(text: object) -> str:
    """The text as an error message quotes it: a 400-digit number is named, not copied out."""
    shown = repr(text)
    return shown if len(shown) <= 60 else f"{shown[:40]}... ({len(str(text))} characters)"


def decimal_from_text(text: str | int | Decimal, *, places: int, negative: bool = False) -> Decimal:
    """A decimal number (a rate, a percentage) with at most `places` decimals, exactly as written.

    The grammar of amounts without thousands separators: ASCII digits, one
    optional '.', no exponent, sign only where `negative`. More decimals than
    `places` are refused, never rounded: the column it is stored in keeps
    `places` decimals and would otherwise round it silently.
    """
    if isinstance(text, bool) or not isinstance(text, (str, int, Decimal)):
        raise NumberFormatError(f"{_shown(text)} is not a decimal number written as a string")
    raw = format(text, "f") if isinstance(text, Decimal) and text.is_finite() else str(text).strip()
    split = _split_number(raw, grouped=False) if len(raw) <= MAX_AMOUNT_LENGTH else None
    if split is None:
        raise NumberFormatError(f"{_shown(text)} is not a decimal number (digits with an optional '.', "
                                f"like 6.125; no exponent or spaces)")
    sign, _, part = split
    if sign and not negative:
        raise NumberFormatError(f"{_shown(text)} is negative")
    if len(part) > places:
        raise TooManyDecimals(f"{_shown(text)} has more than {places} decimals (at most {places} are kept; "
                                f"it is refused rather than rounded)")
    return Decimal(raw)


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
    """One month of an annual percentage rate on a balance (30/360), half-up to the cent.

    Any rate, hence its generic name: a loan's note rate, a servicing fee rate, an issuer spread, a class's
    coupon (all Decimal annual percents: Decimal("6") is 6%). Where the rate is a loan's, it is `note_rate`.
    """
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
