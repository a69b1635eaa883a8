"""CUSIP numbers: the nine-character identifier of a class of bonds, checked by its check digit.

A CUSIP is six characters naming the issuer, two naming the issue, and a check digit computed from
the first eight (the "modulus 10 double add double" of the CUSIP Global Services standard): each
character is given a value (a digit its own, a letter A-Z 10-35, '*' 36, '@' 37, '#' 38), the value of
every second character is doubled, the digits of all the values are added, and the check digit is
what takes that sum to the next multiple of ten. Pure: no database.
"""
from __future__ import annotations

import re

CUSIP_SHAPE = re.compile(r"^[0-9A-Z*@#]{8}[0-9]$")
_SPECIAL = {"*": 36, "@": 37, "#": 38}


def check_digit(base: str) -> int:
    """The check digit of a CUSIP's first eight characters."""
    if len(base) != 8:
        raise ValueError(f"a CUSIP's check digit is computed on 8 characters, not {len(base)}")
    total = 0
    for place, char in enumerate(base):
        value = int(char) if char.isdigit() else _SPECIAL.get(char, ord(char) - ord("A") + 10)
        if place % 2:  # the 2nd, 4th, 6th and 8th characters count double
            value *= 2
        total += value // 10 + value % 10
    return (10 - total % 10) % 10


def cusip_problem(text: object) -> str | None:
    """None for a valid CUSIP (nine characters, upper case, the right check digit); else what is wrong."""
    if not isinstance(text, str) or not CUSIP_SHAPE.match(text):
        return (f"{text!r} is not a CUSIP (9 characters: 8 upper-case letters, digits, '*', '@' or '#', "
                "then a check digit)")
    expected = check_digit(text[:8])
    if int(text[8]) != expected:
        return f"{text} has check digit {text[8]}, but its first eight characters give {expected}"
    return None
