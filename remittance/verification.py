"""The money of every close re-derived from the log, for `verify_ledger` (registered in RemittanceConfig.ready).

Three checks, each naming the first bad fact (trust, period, event position,
loan) and keeping at most MAX_PROBLEMS problems, the earliest first:

- `closed_periods_rederived`: every closed period closed again, on paper, with
  the pure close (`remittance.domain.close_figures.close_figures`) on the facts as they
  stood at its `through_position` (the pool, the loans' statuses and the
  register as the close saw them; the window of `remittance.selectors.period_facts`), and
  compared with its PeriodClosed event, its PeriodResult, ClassPeriod and
  Distribution rows; each class's distributions add up to what the class paid
  less its unplaced share.
- `every_cent_in_one_period`: each trust's windows follow each other without a
  gap or an overlap; no collection line is in the pools of two trusts (or
  twice in one) on its date; none was counted by a close of a trust whose
  removal of the loan, recorded later, is dated before it (the removal's
  proceeds pay that principal again); none of a pool loan dated on or before
  its cut-off was recorded after the pool was transferred (no period can
  count it, though the trust bought the principal it paid).
- `classes_within_pool`: on a deal that is not over-collateralised, the
  classes' balances (an IO's notional aside) after each close do not exceed
  the pool's end balance.

A structured deal (trusts.selectors.deal_structure) is closed again with its structure and its
period's standing (period_facts.period_standing), and the whole PeriodClosed compared: trustee
fee, reserve account, over-collateralisation, triggers, accrual and call included. A close
recorded before PeriodClosed v3 is checked on what it recorded (its upcast structure figures).
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date

from django.db.models import Count, F, Sum

from ledger.events import VERSION_KEY
from ledger.models import Event
from remittance.domain.trust_calendar import Period, payment_date, record_date
from remittance.domain.close_events import CloseContext, period_closed
from remittance.domain.close_figures import CloseFigures, close_figures
from remittance.events import FIELDS_ADDED_IN_V3, CloseWindow, PeriodClosed
from remittance.selectors.period_facts import (
    Window, carried_into, coupon_text, loan_facts, period_standing, pool_original_cents,
)
from remittance.models import ClassPeriod, Distribution, PeriodResult
from remittance.projections import period_result
from servicing.models import CollectionLine
from servicing.verification import earliest_first, keep_earliest
from trusts.domain.deal_structure import IO, DealStructure
from trusts.events import PoolLoanRemoved, PoolLoansTransferred
from trusts.models import HoldingMovement, PoolLoan, SecurityClass, Trust
from trusts.selectors import deal_structure

MAX_PROBLEMS = 20
RESULT_COLUMNS = ("record_date", "payment_date", "through_position", "interest_collected_cents",
                  "principal_collected_cents", "realized_loss_cents", "servicing_fee_cents", "issuer_spread_cents",
                  "paid_to_holders_cents", "excess_cents", "retained_cents", "prior_period_cents",
                  "pool_balance_begin_cents", "pool_balance_end_cents", "pool_factor")
CLASS_COLUMNS = ("balance_begin_cents", "interest_due_cents", "interest_paid_cents", "interest_shortfall_cents",
                 "principal_paid_cents", "loss_written_off_cents", "balance_end_cents", "interest_accrued_cents",
                 "kind")


class PeriodDiscrepancy(Exception):
    """A period's first bad fact, raised with its description."""


# --- 2. Closed periods re-derived ---------------------------------------------------------------------


def closed_periods_rederived() -> list[str]:
    """Each closed period closed again on the facts as they stood, against everything it recorded."""
    kept: list[tuple[int, str]] = []
    for trust in Trust.objects.order_by("code"):
        found = _first_bad_period(trust)
        if found:
            keep_earliest(kept, found, MAX_PROBLEMS)
    return earliest_first(kept)


def _first_bad_period(trust: Trust) -> tuple[int, str] | None:
    """A trust's first period whose figures differ (later ones start from what it recorded, so stand alone)."""
    # The trust's classes and its pool's original balance are the same for every period: read once.
    classes = list(SecurityClass.objects.filter(trust=trust).order_by("priority", "name"))
    pool_original = pool_original_cents(trust)
    structure = deal_structure(trust)
    before: PeriodResult | None = None  # the trust's close just before, in period order
    for result in PeriodResult.objects.filter(trust=trust).order_by("period"):
        try:
            _check_period(trust, result, before, _Deal(classes, pool_original, structure))
        except PeriodDiscrepancy as bad:
            return result.event_position, f"{trust.code} {result.period} (PeriodClosed #{result.event_position}): {bad}"
        except (ValueError, KeyError, ArithmeticError) as error:
            return result.event_position, (f"{trust.code} {result.period} (PeriodClosed #{result.event_position}): "
                                           f"cannot be closed again on its facts ({type(error).__name__}: {error})")
        before = result
    return None


@dataclass(frozen=True, slots=True)
class _Deal:
    """What every period of a trust closes on alike: its classes, its pool's original balance, its structure."""

    classes: list[SecurityClass]
    pool_original: int
    structure: DealStructure


def _check_period(trust: Trust, result: PeriodResult, before: PeriodResult | None, deal: _Deal) -> None:
    """before: the trust's close just before this one (in period order), if any."""
    period = Period.parse(result.period)
    classes = deal.classes
    previous = before if before is not None and before.period == str(period.previous()) else None
    recorded, version = _recorded_close(trust, result)
    window = _window(trust, period, recorded, previous)
    figures = _figures_again(trust, period, window, deal)
    expected = period_closed(_context(trust, period, window, classes, recorded, deal.pool_original), figures)
    if version < 3:
        # A close recorded before the deal's structure was (a standard deal's) recorded none of its figures:
        # it is checked on what it recorded, its upcast structure figures taken as they read.
        expected = replace(expected, **{name: getattr(recorded, name) for name in FIELDS_ADDED_IN_V3},
                           classes=tuple(replace(line, interest_accrued_cents=had.interest_accrued_cents,
                                                 kind=had.kind)
                                         for line, had in zip(expected.classes, recorded.classes)))
    # Compared at the current schema: an older record is upcast first (returns it predates read as zero,
    # and a nonzero one re-derived is named as a difference).
    _require_same("its PeriodClosed says", recorded.to_payload(), expected.to_payload())
    _require_result_row(result, expected)
    _require_class_rows(classes, result.period, expected)
    _require_distributions(classes, result, figures)


def _recorded_close(trust: Trust, result: PeriodResult) -> tuple[PeriodClosed, int]:
    """The PeriodClosed event the row points at, typed, and the schema version it was stored at; refuses a row
    that points elsewhere."""
    row = Event.objects.filter(position=result.event_position).values_list("event_type", "payload").first()
    recorded = PeriodClosed.from_payload(row[1]) if row is not None and row[0] == PeriodClosed.event_type else None
    if recorded is None or recorded.period != result.period or recorded.trust != trust.code:
        raise PeriodDiscrepancy(f"its PeriodResult row points at event #{result.event_position}, "
                                "which is not its PeriodClosed")
    return recorded, int(row[1].get(VERSION_KEY, 1))


def _window(trust: Trust, period: Period, recorded: PeriodClosed, previous: PeriodResult | None) -> Window:
    through = recorded.window.through_position
    if previous is None:
        return Window(period.last_day, through, trust.cutoff_date, through)
    return Window(period.last_day, through, period.previous().last_day, previous.through_position)


def _context(trust, period, window, classes, recorded: PeriodClosed, pool_original: int) -> CloseContext:
    return CloseContext(
        trust_code=trust.code, period=str(period), record_date=record_date(period),
        payment_date=payment_date(period, payment_day=trust.payment_day), through_position=window.through_position,
        previous_through=window.previous_through, original_faces={c.name: c.original_face_cents for c in classes},
        coupons={c.name: coupon_text(c.coupon) for c in classes}, pool_original_cents=pool_original,
        requested_by=recorded.requested_by, approved_by=recorded.approved_by,
    )


def _figures_again(trust: Trust, period: Period, window: Window, deal: _Deal) -> CloseFigures:
    """The close again, on the one-trust reader's facts (period_facts) with the trust's structure and standing."""
    scheduled = trust.remittance_type == Trust.RemittanceType.SCHEDULED_SCHEDULED
    loans = loan_facts(trust, period, window, scheduled=scheduled)
    return close_figures(
        loans=loans, carried=carried_into(trust, period, deal.structure),
        issuer_spread_rate=trust.issuer_spread_rate, scheduled=scheduled,
        original_faces={c.name: c.original_face_cents for c in deal.classes},
        holders=_holders_as_of(deal.classes, record_date(period), window.through_position),
        structure=deal.structure,
        standing=period_standing(trust, period, window.through_position, structure=deal.structure, loans=loans,
                                 cutoff_balance_cents=deal.pool_original),
    )


def _require_same(what: str, recorded, expected, path: str = "") -> None:
    """Raise naming the first key where the recorded figures differ from the re-derived ones."""
    if isinstance(expected, dict) and isinstance(recorded, dict):
        for key in [*expected, *(k for k in recorded if k not in expected)]:
            _require_same(what, recorded.get(key), expected.get(key), f"{path}.{key}" if path else key)
    elif isinstance(expected, list) and isinstance(recorded, list) and len(expected) == len(recorded):
        for index, (had, want) in enumerate(zip(recorded, expected)):
            label = want.get("class_name", index) if isinstance(want, dict) else index
            _require_same(what, had, want, f"{path}[{label}]")
    elif recorded != expected:
        raise PeriodDiscrepancy(f"{what} {path} {recorded}; the log re-derives {expected}")


def _require_result_row(result: PeriodResult, expected: PeriodClosed) -> None:
    want = period_result(expected, trust_id=result.trust_id, event_position=result.event_position)
    for column in RESULT_COLUMNS:
        if getattr(result, column) != getattr(want, column):
            raise PeriodDiscrepancy(f"its PeriodResult row says {column} {getattr(result, column)}; the log re-derives "
                                    f"{getattr(want, column)}")
    stored = result.period_closed
    if stored != expected:
        _require_same("its PeriodResult figures say", stored.to_payload(), expected.to_payload())


def _require_class_rows(classes: list[SecurityClass], period: str, expected: PeriodClosed) -> None:
    rows = {r.security_class_id: r for r in ClassPeriod.objects.filter(security_class__in=classes, period=period)}
    for c in classes:
        row, want = rows.get(c.pk), expected.class_line(c.name)
        if row is None or want is None:
            raise PeriodDiscrepancy(f"class {c.name} has {'no' if row is None else 'a'} ClassPeriod row; "
                                    f"the log re-derives {'one' if want else 'none'}")
        for column in CLASS_COLUMNS:
            if getattr(row, column) != getattr(want, column):
                raise PeriodDiscrepancy(f"class {c.name}'s ClassPeriod row says {column} {getattr(row, column)}; "
                                        f"the log re-derives {getattr(want, column)}")


def _require_distributions(classes: list[SecurityClass], result: PeriodResult, figures: CloseFigures) -> None:
    names = {c.pk: c.name for c in classes}
    rows = {(names[class_id], code): (face, interest, principal) for class_id, code, face, interest, principal in
            Distribution.objects.filter(security_class__in=classes, period=result.period).values_list(
                "security_class_id", "holder__code", "face_held_cents", "interest_cents", "principal_cents")}
    want = {(p.class_name, p.holder_code): (p.face_held_cents, p.interest_cents, p.principal_cents)
            for p in figures.payments}
    for key in sorted(set(rows) | set(want)):
        if rows.get(key) != want.get(key):
            raise PeriodDiscrepancy(f"class {key[0]} holder {key[1]}: its Distribution row (face, interest, "
                                    f"principal) is {rows.get(key)}; the log re-derives {want.get(key)}")
    _require_classes_paid_out(classes, result, figures, rows)


def _require_classes_paid_out(classes: list[SecurityClass], result: PeriodResult, figures: CloseFigures,
                              rows: dict) -> None:
    """Each class's holders get what the class paid less its unplaced share; the shares add up to retained."""
    unplaced = 0
    # What each class paid, as re-derived: _require_class_rows has already held its ClassPeriod row to it.
    paid = {c.name: c.interest_paid_cents + c.principal_paid_cents for c in figures.waterfall.classes}
    by_class: dict[str, int] = {}
    for (name, _), (_, interest, principal) in rows.items():
        by_class[name] = by_class.get(name, 0) + interest + principal
    for c in classes:
        to_holders = by_class.get(c.name, 0)
        if to_holders > paid.get(c.name, 0):
            raise PeriodDiscrepancy(f"class {c.name}'s holders were paid {to_holders} cents, more than the "
                                    f"{paid.get(c.name, 0)} the class paid")
        unplaced += paid.get(c.name, 0) - to_holders
    if unplaced != result.retained_cents:
        raise PeriodDiscrepancy(f"the classes paid {unplaced} cents more than their holders received, not the "
                                f"{result.retained_cents} retained")


# --- The facts as the close saw them ------------------------------------------------------------------


def _holders_as_of(classes: list[SecurityClass], record_day: date, through: int) -> dict[str, dict[str, int]]:
    """Holders of record on the record date, from the register lines recorded by the close's position."""
    names = {c.pk: c.name for c in classes}
    by_class: dict[str, dict[str, int]] = {name: {} for name in names.values()}
    rows = (HoldingMovement.objects.filter(security_class_id__in=list(names), settlement_date__lte=record_day,
                                           event_position__lte=through)
            .values("security_class_id", "holder__code").annotate(face=Sum("face_cents")))
    for row in rows:
        if row["face"]:
            by_class[names[row["security_class_id"]]][row["holder__code"]] = row["face"]
    return by_class


# --- 3. Every collected cent in exactly one period of one trust ----------------------------------------


def every_cent_in_one_period() -> list[str]:
    """No collection line counted by two trusts or two periods, none left out of every window."""
    kept: list[tuple[int, str]] = []
    for problem in (*_window_chain_problems(), *_overlapping_memberships(), *_counted_after_removal(),
                    *_before_cutoff_recorded_later()):
        keep_earliest(kept, problem, MAX_PROBLEMS)
    return earliest_first(kept)


def _window_chain_problems() -> Iterator[tuple[int, str]]:
    """Each trust's closes: consecutive periods, each window starting where the previous close read up to."""
    previous: tuple[PeriodResult, CloseWindow] | None = None
    for result in PeriodResult.objects.select_related("trust").order_by("trust__code", "period"):
        window = result.period_closed.window
        if previous is not None and previous[0].trust_id == result.trust_id:
            found = _chain_problem(*previous, result, window)
            if found:
                name = f"{result.trust.code} {result.period} (PeriodClosed #{result.event_position})"
                yield result.event_position, f"{name}: {found}"
        previous = result, window


def _chain_problem(previous: PeriodResult, previous_window: CloseWindow, result: PeriodResult,
                   window: CloseWindow) -> str | None:
    read_up_to = previous_window.through_position
    if str(Period.parse(previous.period).next()) != result.period:
        return f"closed after {previous.period}, skipping a period whose collections no window counts"
    if window.after_position != read_up_to:
        return (f"its window starts after #{window.after_position} but {previous.period} read up to "
                f"#{read_up_to}: lines between are counted twice or never")
    if window.through_position < read_up_to:
        return f"reads up to #{window.through_position}, before {previous.period}'s #{read_up_to}"
    return None


def _overlapping_memberships() -> Iterator[tuple[int, str]]:
    """Lines of a loan dated while it was in two pools (or twice in one): both close on them."""
    shared = (PoolLoan.objects.values("loan_id").annotate(n=Count("id")).filter(n__gt=1)
              .values_list("loan_id", flat=True))
    for loan_id in shared.iterator(chunk_size=2000):
        members = list(PoolLoan.objects.filter(loan_id=loan_id).select_related("trust")
                       .order_by("transferred_on", "id"))
        for i, first in enumerate(members):
            for second in members[i + 1:]:
                found = _overlap_problem(loan_id, first, second)
                if found:
                    yield found


def _overlap_problem(loan_id: str, a: PoolLoan, b: PoolLoan) -> tuple[int, str] | None:
    start = max(a.transferred_on, b.transferred_on)
    ends = [d for d in (a.removed_on, b.removed_on) if d is not None]
    end = min(ends) if ends else None
    if end is not None and end <= start:
        return None
    lines = CollectionLine.objects.filter(loan_id=loan_id, effective_date__gt=start)
    if end is not None:
        lines = lines.filter(effective_date__lte=end)
    line = lines.order_by("event_position").first()
    if line is None:
        return None
    return line.event_position, (
        f"collection line #{line.event_position} of loan {loan_id} dated {line.effective_date.isoformat()} is in "
        f"the pools of {a.trust.code} (from {a.transferred_on.isoformat()}) and {b.trust.code} (from "
        f"{b.transferred_on.isoformat()}) at once: both trusts count it")


def _counted_after_removal() -> Iterator[tuple[int, str]]:
    """Lines a close counted dated after a removal recorded later: the removal's proceeds repay their principal."""
    closes: dict[str, list[tuple[int, date, str]]] = {}
    for code, period, through in PeriodResult.objects.order_by("period").values_list(
            "trust__code", "period", "through_position"):
        closes.setdefault(code, []).append((through, Period.parse(period).last_day, period))
    removals = (Event.objects.filter(event_type=PoolLoanRemoved.event_type, stream__startswith="trust:")
                .order_by("position"))
    for position, stream, removed_on, payload in removals.values_list("position", "stream", "effective_date",
                                                                      "payload").iterator(chunk_size=2000):
        code = stream.split(":", 1)[1]
        before = [c for c in closes.get(code, []) if c[0] < position]
        if not before:
            continue
        through, last_day, period = max(before)
        loan = PoolLoanRemoved.from_payload(payload).loan_number
        line = (CollectionLine.objects.filter(loan_id=loan, effective_date__gt=removed_on,
                                              effective_date__lte=last_day, event_position__lte=through)
                .order_by("event_position").first())
        if line is not None:
            yield line.event_position, (
                f"collection line #{line.event_position} of loan {loan} dated "
                f"{line.effective_date.isoformat()} was counted by {code}'s closes up to {period}, but the loan's "
                f"removal from {code} (event #{position}, recorded after them) is dated {removed_on.isoformat()}: "
                "its proceeds pay that principal again")


def _before_cutoff_recorded_later() -> Iterator[tuple[int, str]]:
    """Lines of pool loans dated on or before the cut-off but recorded after the pool was transferred.

    One pass over the lines joined to their memberships (the date condition leaves almost none in a
    sound book), then each trust's transfer position decides; the first line of each trust is named.
    """
    transfers = {stream.split(":", 1)[1]: position for stream, position in Event.objects.filter(
        event_type=PoolLoansTransferred.event_type, stream__startswith="trust:").values_list("stream", "position")}
    if not transfers:
        return
    named: set[str] = set()
    rows = (CollectionLine.objects.filter(event_position__gt=min(transfers.values()),
                                          effective_date__lte=F("loan__pool_memberships__transferred_on"))
            .order_by("event_position")
            .values_list("event_position", "loan_id", "effective_date", "loan__pool_memberships__trust__code"))
    for position, loan_id, day, code in rows.iterator(chunk_size=2000):
        if code in named or position <= transfers.get(code, position):
            continue
        named.add(code)
        yield position, (
            f"collection line #{position} of loan {loan_id} dated {day.isoformat()}, on or before {code}'s cut-off, "
            f"was recorded after the pool was transferred (event #{transfers[code]}): the trust bought that "
            f"principal, yet no period of {code} counts it")
        if len(named) >= MAX_PROBLEMS:
            return


# --- 4. Class balances within the pool -----------------------------------------------------------------


def classes_within_pool() -> list[str]:
    """After every close of a deal that is not over-collateralised, the classes owe no more than the pool holds."""
    # An IO class's balance is a notional (the classes' or the pool's): it owes no principal.
    totals = dict(((t, p), s) for t, p, s in ClassPeriod.objects.exclude(kind=IO)
                  .values("security_class__trust_id", "period")
                  .annotate(total=Sum("balance_end_cents"))
                  .values_list("security_class__trust_id", "period", "total"))
    kept: list[tuple[int, str]] = []
    rows = (PeriodResult.objects.filter(trust__overcollateralized=False).select_related("trust")
            .order_by("trust__code", "period"))
    for result in rows.iterator(chunk_size=2000):
        classes = totals.get((result.trust_id, result.period), 0)
        if classes > result.pool_balance_end_cents:
            keep_earliest(kept, (result.event_position, (
                f"{result.trust.code} {result.period} (PeriodClosed #{result.event_position}): its classes owe "
                f"{classes} cents after the close, more than the pool's end balance of "
                f"{result.pool_balance_end_cents}, on a deal that is not over-collateralised")), MAX_PROBLEMS)
    return earliest_first(kept)
