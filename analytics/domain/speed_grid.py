"""A deal across prepayment speeds: each class's WAL, first and final principal period and yield, and
the PAC band test (pure).

Every speed is a full projection (`deal_projection.project`: the collateral in cents, each month
closed by the close's own waterfall with the deal's structure), priced at one price per 100 of face
(par unless given). The band test is the PAC's promise read off the grid: across its band
(the band's own two speeds and every speed of the grid between them) its WAL is the same to two
decimals, and at a speed outside it the WAL is another.

An IO class is paid no principal: its WAL, first and final periods are those of its notional's
paydown (the notional's decline each period as its "principal"), as IO strips are quoted, and it has
a yield only at a price given (par of a notional is no price for an IO).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from analytics.domain import measures
from analytics.domain.deal_projection import Deal, DealProjection, Pricing, class_measures, project
from analytics.domain.prepayment import constant
from trusts.domain.deal_structure import IO, PAC

WAL_DECIMALS = 2


@dataclass(frozen=True, slots=True, kw_only=True)
class ClassAtSpeed:
    """One class at one speed: WAL (years), first and last period paying principal, yield at the price."""

    wal_years: float | None
    first_period: int | None
    final_period: int | None
    yield_percent: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class SpeedGrid:
    """The deal at each PSA speed: the collateral's WAL and each class's figures, by speed then class."""

    speeds: tuple[Decimal, ...]
    class_names: tuple[str, ...]
    collateral_wal_years: dict[Decimal, float | None]
    classes: dict[Decimal, dict[str, ClassAtSpeed]]

    def wal(self, speed: Decimal, name: str) -> float | None:
        return self.classes[speed][name].wal_years


@dataclass(frozen=True, slots=True, kw_only=True)
class BandTest:
    """A PAC's WAL inside and outside its band; flat: equal to two decimals at every speed inside."""

    class_name: str
    band: tuple[Decimal, Decimal]
    inside: dict[Decimal, float | None]
    outside: dict[Decimal, float | None]

    @property
    def band_wal(self) -> float | None:
        """The WAL at the band's lower speed (rounded to two decimals), None if the class is paid nothing."""
        wal = self.inside[self.band[0]]
        return None if wal is None else round(wal, WAL_DECIMALS)

    @property
    def flat(self) -> bool:
        return all(w is not None and round(w, WAL_DECIMALS) == self.band_wal for w in self.inside.values())

    @property
    def varies_outside(self) -> bool:
        """Every speed outside the band gives another WAL (to two decimals)."""
        return all(w is None or round(w, WAL_DECIMALS) != self.band_wal for w in self.outside.values())


def at_speed(projection: DealProjection, name: str, price: float | None = None) -> ClassAtSpeed:
    """One class's figures in one projection (projected at par), its yield at `price` (None: par; an IO: none)."""
    results = [m.waterfall.for_class(name) for m in projection.months]
    yielded = projection.classes[name].yield_percent
    if price is not None:
        times = measures.payment_times(len(results))
        yielded = class_measures(projection.months, name, times, Pricing(price=price)).yield_percent
    if results and results[0].kind == IO:
        paydown = [r.balance_begin_cents - r.balance_end_cents for r in results]
        paying = [k for k, cents in enumerate(paydown, start=1) if cents]
        return ClassAtSpeed(wal_years=measures.average_life(paydown, measures.payment_times(len(results))),
                            first_period=paying[0] if paying else None, final_period=paying[-1] if paying else None,
                            yield_percent=yielded if price is not None else None)
    paying = [k for k, r in enumerate(results, start=1) if r.principal_paid_cents]
    figures = projection.classes[name]
    return ClassAtSpeed(wal_years=figures.wal_years, first_period=paying[0] if paying else None,
                        final_period=figures.final_period, yield_percent=yielded)


def speed_grid(deal: Deal, speeds: Sequence[Decimal | float | int], price: float | None = None,
               prices: Mapping[str, float] | None = None) -> SpeedGrid:
    """The deal projected at each PSA speed (in the order given), every class priced at `price` (None: par), or
    at its own in `prices`."""
    if not speeds:
        raise ValueError("a speed grid needs at least one PSA speed")
    names = tuple(c.name for c in deal.structure.classes)
    unknown = sorted(set(prices or {}) - set(names))
    if unknown:
        raise ValueError(f"a price is given for {', '.join(unknown)}, not a class of the deal")
    priced = {n: (prices or {}).get(n, price) for n in names}
    grid = {Decimal(str(s)): project(deal, constant("psa", float(s))) for s in speeds}
    return SpeedGrid(
        speeds=tuple(grid), class_names=names,
        collateral_wal_years={s: p.collateral_wal_years for s, p in grid.items()},
        classes={s: {n: at_speed(p, n, priced[n]) for n in names} for s, p in grid.items()},
    )


def pac_classes(deal: Deal) -> list[tuple[str, tuple[Decimal, Decimal]]]:
    """The deal's PAC classes with a declared band, in class order."""
    found = []
    for c in deal.structure.classes:
        features = deal.structure.deal.features_of(c.name)
        if features.kind == PAC and features.band is not None:
            found.append((c.name, features.band))
    return found


def band_tests(deal: Deal, grid: SpeedGrid) -> list[BandTest]:
    """Each PAC's band test: the grid's speeds and the band's own two, inside and outside the band."""
    tests = []
    for name, (lower, upper) in pac_classes(deal):
        extra = [s for s in (lower, upper) if s not in grid.speeds]
        wals = {s: grid.wal(s, name) for s in grid.speeds}
        if extra:
            wals.update({s: w.wal_years for s, w in _class_at(deal, extra, name).items()})
        inside = {s: w for s, w in sorted(wals.items()) if lower <= s <= upper}
        outside = {s: w for s, w in sorted(wals.items()) if not lower <= s <= upper}
        tests.append(BandTest(class_name=name, band=(lower, upper), inside=inside, outside=outside))
    return tests


def _class_at(deal: Deal, speeds: Sequence[Decimal], name: str) -> dict[Decimal, ClassAtSpeed]:
    return {s: at_speed(project(deal, constant("psa", float(s))), name) for s in speeds}


# ---------------------------------------------------------------- text


def grid_text(grid: SpeedGrid, tests: Sequence[BandTest]) -> str:
    """The grid as text: the collateral's WAL, a table per class (a row per speed), and each PAC's band test."""
    lines = ["collateral", f"  {'PSA':>6}  {'WAL (yrs)':>9}"]
    lines += [f"  {_speed(s):>6}  {_figure(grid.collateral_wal_years[s], 2):>9}" for s in grid.speeds]
    for name in grid.class_names:
        lines += ["", f"class {name}", f"  {'PSA':>6}  {'WAL (yrs)':>9}  {'first':>5}  {'final':>5}  {'yield %':>8}"]
        for s in grid.speeds:
            c = grid.classes[s][name]
            lines.append(f"  {_speed(s):>6}  {_figure(c.wal_years, 2):>9}  {_period(c.first_period):>5}  "
                         f"{_period(c.final_period):>5}  {_figure(c.yield_percent, 3):>8}")
    for test in tests:
        lines += ["", f"band test, PAC {test.class_name} ({_speed(test.band[0])}-{_speed(test.band[1])} PSA): "
                      f"{'flat' if test.flat else 'NOT flat'} inside, "
                      f"{'varies' if test.varies_outside else 'does NOT vary'} outside"]
        lines += [f"  inside  {_speed(s):>6}  {_figure(w, 2)}" for s, w in test.inside.items()]
        lines += [f"  outside {_speed(s):>6}  {_figure(w, 2)}" for s, w in test.outside.items()]
    return "\n".join(lines) + "\n"


def _speed(speed: Decimal) -> str:
    return f"{speed.normalize():f}"


def _figure(value: float | None, places: int) -> str:
    return "-" if value is None else f"{value:.{places}f}"


def _period(value: int | None) -> str:
    return "-" if value is None else str(value)
