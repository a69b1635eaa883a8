"""Factors: a pool's or class's balance over its original, published to 8 decimals (pure, no Django).

The one home of the factor's places, its computation, its text and the face
outstanding it gives: the close records factors with `factor`, the reports,
the API and the admin show them with `factor_text`, and a holding's current
face is `current_face`. The database columns keep FACTOR_DECIMALS places.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from ledger.domain.money import round_half_up

FACTOR_DECIMALS = 8
FACTOR_QUANTUM = Decimal(1).scaleb(-FACTOR_DECIMALS)  # 0.00000001


def factor(balance_cents: int, original_cents: int) -> Decimal:
    """A pool or class factor to 8 decimals: balance over original, rounded half up."""
    if original_cents <= 0:
        raise ValueError("a factor needs a positive original balance")
    return (Decimal(balance_cents) / Decimal(original_cents)).quantize(FACTOR_QUANTUM, rounding=ROUND_HALF_UP)


def factor_text(value: Decimal | str | int) -> str:
    """A factor as published: 8 decimals in fixed point ("0.00000000", never str(Decimal)'s "0E-8")."""
    return f"{Decimal(str(value)).quantize(FACTOR_QUANTUM):f}"


def current_face(original_face_cents: int, class_factor: Decimal) -> int:
    """The face outstanding of a holding: its original face times its class's factor, to the cent (half up)."""
    return round_half_up(Decimal(original_face_cents) * class_factor)
