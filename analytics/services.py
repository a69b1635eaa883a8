"""Projecting what a request asks for: the pool its options describe, or a trust as it stands; a deal across
speeds, and a PAC schedule from a deal's collateral or from a loan tape before the trust exists."""
from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from analytics.domain.collateral import Repline
from analytics.domain.deal_projection import Deal, DealProjection, project
from analytics.domain.loan_replines import TapeLoansError, tape_replines
from analytics.domain.measures import MeasureError
from analytics.domain.pac_schedule import deal_file_features, pac_schedule
from analytics.domain.scenarios import Request, pool_deal
from analytics.domain.speed_grid import BandTest, SpeedGrid, band_tests, speed_grid
from analytics.domain.textbook_deals import textbook_deal
from analytics.selectors import trust_deal
from ledger.domain.money import MoneyFormatError, cents_from_dollars
from servicing.domain.loan_tape import parse_tape_bytes


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


def deal_pac_schedule(*, textbook: str | None = None, trust_code: str | None = None, band: str,
                      face: str | None = None, tape: bytes | None = None, loans: str | None = None,
                      cutoff: str | None = None) -> dict[str, Any]:
    """A PAC's features for a deal file, its schedule built from the deal's collateral and the band "LOWER,UPPER".

    The collateral: a textbook deal's, a trust's pool as its next period starts, or a loan tape's loans
    (`loans` "L1,L2", default all) from the first period after the deal's cut-off, before the trust exists."""
    if tape is None and (loans is not None or cutoff is not None):
        raise DealRequestError("--loans and --cutoff go with --tape")
    replines = (tape_collateral(tape, loans=loans, cutoff=cutoff) if tape is not None
                else the_deal(textbook=textbook, trust_code=trust_code).replines)
    speeds = _speeds(band, "--pac-schedule")
    if len(speeds) != 2:
        raise DealRequestError(f"--pac-schedule is LOWER,UPPER (two PSA speeds), not {band!r}")
    try:
        face_cents = None if face is None else cents_from_dollars(face)
    except MoneyFormatError as error:
        raise DealRequestError(f"--face: {error}") from None
    return deal_file_features(pac_schedule(replines, (speeds[0], speeds[1]), face_cents=face_cents))


def tape_collateral(raw: bytes, *, loans: str | None, cutoff: str | None) -> tuple[Repline, ...]:
    """A loan tape's loans as replines from the cut-off (servicing's tape reader and its refusals, as boarding)."""
    if not cutoff:
        raise DealRequestError("--cutoff YYYY-MM-DD is required with --tape: the deal's cut-off date, "
                               "from which the loans' ages are counted")
    try:
        cutoff_date = date.fromisoformat(cutoff)
    except ValueError:
        raise DealRequestError(f"--cutoff: {cutoff!r} is not a date (YYYY-MM-DD)") from None
    rows, problems = parse_tape_bytes(raw)
    if problems:
        listed = "\n".join(f"  {p}" for p in problems)
        raise DealRequestError(f"--tape: {len(problems)} bad row(s), no schedule built\n{listed}")
    wanted = None if loans is None else [n.strip() for n in loans.split(",") if n.strip()]
    try:
        replines = tape_replines(rows, cutoff_date, wanted)
    except TapeLoansError as error:
        raise DealRequestError(str(error)) from None
    if not replines:
        raise DealRequestError(f"--tape: no loan has anything left to pay after the cut-off {cutoff_date}")
    return replines


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
