"""A PAC class's schedule of balances, built from its collateral and a band of prepayment speeds (pure).

The planned amortization class is promised the principal the collateral pays at every speed of its
band: the collateral is projected at the band's lower and upper PSA speeds by analytics' own
collateral code, to the same cents as a projection (`collateral`, then `cents`), and the scheduled
principal of each month is the smaller of the two. A slow speed pays less early, a fast one less
late (the pool is gone), so the minimum follows the slow speed at first and the fast one at the end.

The PAC's face is at most the sum of those minimums (by default it is that sum); its schedule is
its face less the cumulative scheduled principal, period by period, stopping at zero: a face below
the sum pays off earlier. The balances (cents, at the end of periods 1, 2, ...) are what a deal file's
class "schedule" takes (trusts.domain.deal_structure.ClassFeatures.schedule).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from analytics.domain.cents import paid_months, to_cents
from analytics.domain.collateral import Repline, project_repline
from analytics.domain.prepayment import constant
from ledger.domain.money import dollars
from trusts.domain.deal_structure import PAC


class ScheduleError(ValueError):
    """The band or the PAC's face cannot make a schedule (the message says which)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PacSchedule:
    """A PAC's schedule: its band, its face, and its scheduled balance at the end of each period (cents)."""

    band: tuple[Decimal, Decimal]
    face_cents: int
    balances: tuple[int, ...]
    scheduled_principal: tuple[int, ...]  # cents, per period: the band's minimum (the last one cut at the face)


def collateral_principal(replines: Sequence[Repline], psa: Decimal | float) -> list[int]:
    """The collateral's principal (cents) in each projected month at a PSA speed, summed over replines."""
    totals: list[int] = []
    for r in replines:
        months = paid_months(project_repline(r, constant("psa", float(psa))), balance_cents=to_cents(r.balance),
                             gross_wac=r.gross_wac, name=r.name)
        for k, month in enumerate(months):
            if k == len(totals):
                totals.append(0)
            totals[k] += month.principal_cents
    return totals


def band_minimum(replines: Sequence[Repline], lower: Decimal | float, upper: Decimal | float) -> list[int]:
    """The collateral's principal each month at the slower of the band's two speeds' payments: min(lower, upper)."""
    slow, fast = collateral_principal(replines, lower), collateral_principal(replines, upper)
    months = max(len(slow), len(fast))
    slow, fast = slow + [0] * (months - len(slow)), fast + [0] * (months - len(fast))
    return [min(a, b) for a, b in zip(slow, fast)]


def pac_schedule(replines: Sequence[Repline], band: tuple[Decimal, Decimal],
                 face_cents: int | None = None) -> PacSchedule:
    """The PAC's schedule from the collateral and its band; face_cents None is the largest face the band supports."""
    lower, upper = band
    if not 0 <= lower < upper:
        raise ScheduleError(f"the band is (lower PSA, upper PSA) with lower below upper, not ({lower}, {upper})")
    if not replines:
        raise ScheduleError("a PAC schedule needs collateral (at least one repline)")
    minimum = band_minimum(replines, lower, upper)
    supported = sum(minimum)
    face = supported if face_cents is None else face_cents
    if face <= 0:
        raise ScheduleError(f"the PAC's face must be above zero, not {face} cents")
    if face > supported:
        raise ScheduleError(f"the PAC's face ({face} cents) is above what the {lower}-{upper} PSA band pays "
                            f"at both speeds ({supported} cents)")
    balances, scheduled, left = [], [], face
    for principal in minimum:
        paying = min(principal, left)
        left -= paying
        balances.append(left)
        scheduled.append(paying)
        if not left:
            break
    return PacSchedule(band=(Decimal(lower), Decimal(upper)), face_cents=face, balances=tuple(balances),
                       scheduled_principal=tuple(scheduled))


def deal_file_features(schedule: PacSchedule) -> dict[str, Any]:
    """The PAC's features as a deal file's class takes them: kind, band (PSA) and schedule (dollars, as text)."""
    return {"kind": PAC, "band": [f"{schedule.band[0].normalize():f}", f"{schedule.band[1].normalize():f}"],
            "face": dollars(schedule.face_cents), "schedule": [dollars(b) for b in schedule.balances]}
