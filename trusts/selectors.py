"""Reads of the register and the pool: holdings as of a date and valued, and the pool's members.

`holdings_valued_as_of` is the one home of a holding's value on a date (the
API's holdings, the admin's pages, the statements): the original face held,
its class's factor paid by that date and the face outstanding. The factor a
class was paid down to is the close's (remittance's) to know: remittance lends
it with `register_paid_factor` (in its AppConfig.ready), so trusts never
reaches up to it; without it every class is still at its original face.

`pool_members` is the one home of a trust's pool as the log stood at a
position (the close, its re-derivation and the reports read it); `cleanup_call_date`
the one home of whether (and when) its clean-up call was exercised, likewise.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Count, Expression, OuterRef, Q, Subquery, Sum, Value
from django.db.models.fields import CharField, DateField, DecimalField

from ledger.models import Event
from trusts.events import CleanUpCallExercised, PoolLoanRemoved
from trusts.domain.deal_structure import STANDARD_STRUCTURE, DealStructure
from trusts.domain.structure_json import structure_from_json
from trusts.domain.factors import FACTOR_DECIMALS, current_face
from trusts.models import Holder, HoldingMovement, PoolLoan, SecurityClass, Trust, membership_covers, trust_stream


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
    by_id = holders_of_record_by_class_id(class_ids=[c.pk for c in classes], record_date=record_date)
    return {c.name: by_id[c.pk] for c in classes}


def holders_of_record_by_class_id(*, class_ids: Sequence[int], record_date: date) -> dict[int, dict[str, int]]:
    """`holders_of_record` for classes of any trusts in one query: class id -> holder -> face.

    The month-end's group close reads many trusts' registers at once, where class names repeat.
    Every class given has an entry, empty when none of its bonds is placed.
    """
    by_class: dict[int, dict[str, int]] = {pk: {} for pk in class_ids}
    rows = (
        HoldingMovement.objects.filter(security_class_id__in=list(class_ids), settlement_date__lte=record_date)
        .values("security_class_id", "holder__code").annotate(face=Sum("face_cents"))
        .order_by("security_class_id", "holder__code")
    )
    for row in rows:
        if row["face"]:
            by_class[row["security_class_id"]][row["holder__code"]] = row["face"]
    return by_class


# ------------------------------------------------------------------ holdings valued on a date

# fn(the class, as an OuterRef to a security class id; the day; the column: "factor", "period" or
# "payment_date") -> that column of the class's last payment made by that day, a subquery (NULL before any).
# One query values every holding, however many classes.
PaidFactor = Callable[[OuterRef, date, str], Expression]
_paid_factor: list[PaidFactor] = []


def register_paid_factor(expression: PaidFactor) -> None:
    """Where the factors a class was paid down to are read from (remittance registers it; once)."""
    _paid_factor[:] = [expression]


_NOTHING_PAID = {"factor": DecimalField(max_digits=11, decimal_places=FACTOR_DECIMALS), "period": CharField(),
                 "payment_date": DateField()}


def _paid_by(day: date, column: str) -> Expression:
    if not _paid_factor:
        return Value(None, output_field=_NOTHING_PAID[column])
    return _paid_factor[0](OuterRef("security_class"), day, column)


@dataclass(frozen=True, slots=True)
class ValuedHolding:
    """One holder's holding of one class on a date: the original face, the factor paid by then, the face now."""

    trust_code: str
    class_id: int
    class_name: str
    class_priority: int
    holder_code: str
    original_face_cents: int
    factor: Decimal  # 1 while the class has had no payment by the date
    # The period and payment date the factor is from: None while the class has had no payment by the date.
    factor_period: str | None = None
    factor_payment_date: date | None = None

    @property
    def current_face_cents(self) -> int:
        return current_face(self.original_face_cents, self.factor)

    @classmethod
    def from_row(cls, row: dict) -> ValuedHolding:
        """A row of `holdings_valued_as_of`'s query, valued."""
        return cls(
            trust_code=row["security_class__trust__code"], class_id=row["security_class"],
            class_name=row["security_class__name"], class_priority=row["security_class__priority"],
            holder_code=row["holder__code"], original_face_cents=row["face"],
            # No period paid yet: the class is still at its original face.
            factor=Decimal(1) if row["factor"] is None else Decimal(str(row["factor"])),
            factor_period=row["factor_period"], factor_payment_date=row["factor_payment_date"],
        )


def holdings_valued_as_of(*, as_of: date, holder: Holder | None = None, trust: Trust | None = None):
    """Every holding on the register on `as_of` (transfers settled by then), of one holder or one trust or all.

    A query of rows (one per holder and class, none where the face nets to zero) that the caller
    may filter further and page, each read with `ValuedHolding.from_row`: ordered by trust, class
    name and holder. One query, however many classes.
    """
    lines = HoldingMovement.objects.filter(settlement_date__lte=as_of)
    if holder is not None:
        lines = lines.filter(holder=holder)
    if trust is not None:
        lines = lines.filter(security_class__trust=trust)
    return (
        lines.values("security_class", "security_class__name", "security_class__priority",
                     "security_class__trust__code", "holder__code")
        .annotate(face=Sum("face_cents"), factor=_paid_by(as_of, "factor"),
                  factor_period=_paid_by(as_of, "period"), factor_payment_date=_paid_by(as_of, "payment_date"))
        .exclude(face=0)
        .order_by("security_class__trust__code", "security_class__name", "holder__code")
    )


# ------------------------------------------------------------------ the pool's members


@dataclass(frozen=True, slots=True)
class PoolMember:
    """A loan's membership of a trust's pool as the log stood at a position (PoolLoan's interval convention).

    A removal recorded after that position is not there yet, so a close checked again later sees the
    pool it closed on.
    """

    loan_id: str
    transferred_on: date
    removed_on: date | None

    def covers(self, day: date) -> bool:
        """Whether money dated `day` is the trust's: transferred_on < day <= removed_on."""
        return membership_covers(self.transferred_on, self.removed_on, day)


def pool_members(trust: Trust, *, through_position: int | None = None) -> tuple[list[PoolMember], list[str]]:
    """The trust's pool (every loan that was ever in it) as the log stood at `through_position` (None: now),
    and the loans whose removal was recorded only after it (shown still in the pool)."""
    recorded = {} if through_position is None else {
        PoolLoanRemoved.from_payload(payload).loan_number: position for payload, position in
        Event.objects.filter(stream=trust_stream(trust.code), event_type=PoolLoanRemoved.event_type,
                             position__gt=through_position).values_list("payload", "position")}
    members, late = [], []
    for loan_id, transferred_on, removed_on in PoolLoan.objects.filter(trust=trust).values_list(
            "loan_id", "transferred_on", "removed_on"):
        if removed_on is not None and loan_id in recorded:
            late.append(loan_id)
            removed_on = None
        members.append(PoolMember(loan_id, transferred_on, removed_on))
    return members, late


# ------------------------------------------------------------------ the pool's totals


def with_pool_totals(trusts):
    """Trusts annotated with the loans in their pool now (`pool_count`) and those loans' unpaid principal now
    (`pool_balance_cents`, from the loans' positions): one query for a whole list."""
    in_pool = PoolLoan.objects.filter(trust=OuterRef("pk"), removed_on__isnull=True).order_by().values("trust")
    return trusts.annotate(
        pool_count=Subquery(in_pool.annotate(n=Count("pk")).values("n")),
        pool_balance_cents=Subquery(in_pool.annotate(s=Sum("loan__position__principal_balance_cents")).values("s")),
    )


@dataclass(frozen=True, slots=True)
class PoolSummary:
    """A trust's pool in four figures: loans ever in it, still in it, their cut-off balance, unpaid principal now."""

    loans: int
    active: int
    cutoff_balance_cents: int
    unpaid_balance_cents: int

    @property
    def removed(self) -> int:
        return self.loans - self.active


def pool_summary(trust: Trust) -> PoolSummary:
    totals = trust.pool.aggregate(
        loans=Count("pk"), active=Count("pk", filter=Q(removed_on__isnull=True)), cutoff=Sum("cutoff_balance_cents"),
        unpaid=Sum("loan__position__principal_balance_cents", filter=Q(removed_on__isnull=True)))
    return PoolSummary(loans=totals["loans"], active=totals["active"], cutoff_balance_cents=totals["cutoff"] or 0,
                       unpaid_balance_cents=totals["unpaid"] or 0)


def deal_structure(trust: Trust) -> DealStructure:
    """The trust's declared structure (steps, class features, triggers, OC, reserve, call, trustee fee).

    Decoded from the trust's row (Trust.structure, as TrustFormed v3 recorded it; {} is the standard
    deal): no query.
    """
    return structure_from_json(trust.structure) if trust.structure else STANDARD_STRUCTURE


def cleanup_call_date(trust: Trust, *, through_position: int | None = None) -> date | None:
    """The day the trust's clean-up call was exercised (its CleanUpCallExercised, as the log stood at
    `through_position`; None: now), None if it was not. A close checked again later sees the call it closed on."""
    calls = Event.objects.filter(stream=trust_stream(trust.code), event_type=CleanUpCallExercised.event_type)
    if through_position is not None:
        calls = calls.filter(position__lte=through_position)
    return calls.order_by("position").values_list("effective_date", flat=True).first()
