"""Reads of the register and the pool: holdings as of a date, and factors."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Sum

from trusts.models import HoldingMovement, SecurityClass

FACTOR_PLACES = Decimal("0.00000001")


def holdings_as_of(*, security_class: SecurityClass, as_of: date) -> dict[str, int]:
    """Original face held by each holder of a class, counting transfers settled by `as_of`."""
    rows = (
        HoldingMovement.objects.filter(security_class=security_class, settlement_date__lte=as_of)
        .values("holder__code").annotate(face=Sum("face_cents")).order_by("holder__code")
    )
    return {row["holder__code"]: row["face"] for row in rows if row["face"]}


def holding_low(*, security_class: SecurityClass, holder_code: str, from_date: date) -> tuple[int, int]:
    """A holder's face on `from_date`, and the least it holds on any day from then on.

    Counts transfers already on the register that settle later, so a sale
    now cannot overdraw a holding that a later-settling sale still needs.
    """
    days = list(
        HoldingMovement.objects.filter(security_class=security_class, holder__code=holder_code)
        .values_list("settlement_date").annotate(face=Sum("face_cents")).order_by("settlement_date")
    )
    held = sum(face for day, face in days if day <= from_date)
    running = lowest = held
    for day, face in days:
        if day > from_date:
            running += face
            lowest = min(lowest, running)
    return held, lowest


def holders_of_record(*, security_class: SecurityClass, record_date: date) -> dict[str, int]:
    """Who receives a period's payment: the register as it stands on the record date."""
    return holdings_as_of(security_class=security_class, as_of=record_date)


def holders_of_record_by_class(*, classes: Sequence[SecurityClass], record_date: date) -> dict[str, dict[str, int]]:
    """`holders_of_record` for several classes of one trust in one query: class name -> holder -> face.

    Every class given has an entry, empty when none of its bonds is placed.
    """
    names = {c.pk: c.name for c in classes}
    by_class: dict[str, dict[str, int]] = {name: {} for name in names.values()}
    rows = (
        HoldingMovement.objects.filter(security_class_id__in=list(names), settlement_date__lte=record_date)
        .values("security_class_id", "holder__code").annotate(face=Sum("face_cents"))
        .order_by("security_class_id", "holder__code")
    )
    for row in rows:
        if row["face"]:
            by_class[names[row["security_class_id"]]][row["holder__code"]] = row["face"]
    return by_class


def factor(balance_cents: int, original_cents: int) -> Decimal:
    """A pool or class factor to 8 decimals: balance over original."""
    if original_cents <= 0:
        raise ValueError("a factor needs a positive original balance")
    return (Decimal(balance_cents) / Decimal(original_cents)).quantize(FACTOR_PLACES, rounding=ROUND_HALF_UP)
