"""Projecting what a request asks for: the pool its options describe, or a trust as it stands; a deal across
speeds, and a PAC schedule from a deal's collateral."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from analytics.domain.deal_projection import Deal, DealProjection, project
from analytics.domain.measures import MeasureError
from analytics.domain.pac_schedule import deal_file_features, pac_schedule
from analytics.domain.scenarios import Request, pool_deal
from analytics.domain.speed_grid import BandTest, SpeedGrid, band_tests, speed_grid
from analytics.domain.textbook_deals import textbook_deal
from analytics.selectors import trust_deal
from ledger.domain.money import MoneyFormatError, cents_from_dollars


class DealRequestError(ValueError):
    """A deal request's options cannot be read (the message names the option)."""


def project_request(request: Request) -> DealProjection:
    """The projection of the request's pool (or trust) under its scenario, priced as it asks."""
    if request.trust_code:
        deal, _period = trust_deal(request.trust_code)
    else:
        deal = pool_deal(request.pool, request.classes)
    return project(deal, request.prepayment, request.defaults, request.pricing)


def the_deal(*, textbook: str | None, trust_code: str | None) -> Deal:
    """A textbook deal by its code, or a trust's deal as its next open period starts."""
    if textbook:
        return textbook_deal(textbook)
    if trust_code:
        return trust_deal(trust_code)[0]
    raise DealRequestError("give --textbook or --trust")


def deal_grid(*, textbook: str | None, trust_code: str | None, speeds: str,
              price: str | None = None) -> tuple[SpeedGrid, list[BandTest]]:
    """The deal at each PSA speed (text "0,50,165") and its PAC band tests, priced at `price`: one price for
    every class ("99.5"), or a price by class ("X=4.5,A=101"; the others at par); None: par."""
    deal = the_deal(textbook=textbook, trust_code=trust_code)
    one, by_class = _prices(price)
    try:
        grid = speed_grid(deal, _speeds(speeds, "--psa"), price=one, prices=by_class)
    except ValueError as error:
        if isinstance(error, MeasureError):
            raise
        raise DealRequestError(f"--price: {error}") from None
    return grid, band_tests(deal, grid)


def _prices(text: str | None) -> tuple[float | None, dict[str, float]]:
    if text is None:
        return None, {}
    if "=" not in text:
        return _price(text), {}
    prices = {}
    for part in text.split(","):
        name, _, value = part.partition("=")
        if not name.strip() or not value.strip():
            raise DealRequestError(f"--price is a price, or CLASS=PRICE pairs comma-separated, not {text!r}")
        prices[name.strip()] = _price(value)
    return None, prices


def _price(text: str) -> float:
    value = _number(text, "--price")
    if value <= 0:
        raise DealRequestError(f"--price: a price must be above zero, not {text.strip()}")
    return float(value)


def deal_pac_schedule(*, textbook: str | None, trust_code: str | None, band: str,
                      face: str | None = None) -> dict[str, Any]:
    """A PAC's features for a deal file, its schedule built from the deal's collateral and the band "LOWER,UPPER"."""
    deal = the_deal(textbook=textbook, trust_code=trust_code)
    speeds = _speeds(band, "--pac-schedule")
    if len(speeds) != 2:
        raise DealRequestError(f"--pac-schedule is LOWER,UPPER (two PSA speeds), not {band!r}")
    try:
        face_cents = None if face is None else cents_from_dollars(face)
    except MoneyFormatError as error:
        raise DealRequestError(f"--face: {error}") from None
    return deal_file_features(pac_schedule(deal.replines, (speeds[0], speeds[1]), face_cents=face_cents))


def _speeds(text: str, option: str) -> list[Decimal]:
    speeds = [_number(part, option) for part in text.split(",") if part.strip()]
    if not speeds or any(s < 0 for s in speeds):
        raise DealRequestError(f"{option} takes PSA speeds of 0 or more, comma-separated, not {text!r}")
    return speeds


def _number(text: str, option: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise DealRequestError(f"{option}: {text!r} is not a number") from None
    if not value.is_finite():
        raise DealRequestError(f"{option}: {text!r} is not a number")
    return value
