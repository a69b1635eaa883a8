"""What the remittance report page shows besides the report itself. Selectors only: they read and never write.

- `unavailable_reason`: why a trust and period have no report, in words an operator can act on;
- `reconciliation_lines`: the report's figures checked against each other and against the close's own
  record, each line with both sides so a mismatch shows by how much;
- `balance_history`: the pool's and each class's balance at the end of every closed period up to one,
  for the chart;
- `holder_payments`: the period's payments to holders (the first few hundred; the list page has them all).
"""
from __future__ import annotations

from dataclasses import dataclass

from remittance.domain.trust_calendar import Period
from remittance.domain.charts import Series
from remittance.models import ClassPeriod, Distribution, PeriodResult, PeriodStatus, TrustPeriod
from trusts.models import SecurityClass, Trust

POOL_SERIES = "Pool"
HOLDER_PAYMENTS_SHOWN = 200


@dataclass(frozen=True, slots=True)
class ReconciliationLine:
    """One check: two amounts that must be equal."""

    label: str
    left_label: str
    left_cents: int
    right_label: str
    right_cents: int

    @property
    def ok(self) -> bool:
        return self.left_cents == self.right_cents

    @property
    def difference_cents(self) -> int:
        return self.left_cents - self.right_cents


def unavailable_reason(trust_code: str, period: str) -> str | None:
    """None when the period has a report; otherwise why not (unknown trust, bad period, not closed...)."""
    trust = Trust.objects.filter(code=trust_code).first()
    if trust is None:
        return f"There is no trust {trust_code!r}."
    try:
        month = str(Period.parse(period))
    except ValueError as error:
        return f"No report for {trust.code} {period!r}: {error}."
    if PeriodResult.objects.filter(trust=trust, period=month).exists():
        return None
    row = TrustPeriod.objects.filter(trust=trust, period=month).first()
    if row is None:
        return f"{trust.code} {month} has not been closed: no close has been started for it."
    if row.status == PeriodStatus.CLOSED:
        # The period's record says closed but its read model is missing: a projection to rebuild, not a close.
        return (f"{trust.code} {month} is marked closed but its result is missing; "
                "rebuild the read models (manage.py rebuild_projections) and verify the ledger.")
    return f"{trust.code} {month} is not closed yet (status: {row.status})."


def reconciliation_lines(report: dict, trust: Trust, result: PeriodResult) -> list[ReconciliationLine]:
    """The period's money checked four ways; every line should read OK."""
    r, classes = report["reconciliation"], report["classes"]
    # A structured deal's reserve account pays in (its draw and release) and takes out (its deposit and release),
    # and its trustee is paid; a standard deal's report has none of those figures.
    structured = "from_reserve_cents" in r
    lines = [
        ReconciliationLine("Cash in = cash out",
                           "collections + advances - recoveries - returns carried in + returns carried out"
                           + (" + from the reserve" if structured else ""),
                           r["cash_in_cents"] + r.get("from_reserve_cents", 0),
                           "fee + spread + " + ("trustee fee + " if structured else "") + "holders + excess + retained"
                           + (" + into and out of the reserve" if structured else ""), r["out_cents"]),
        ReconciliationLine("Holders' payments = paid to holders at the close", "sum of the holders' distributions",
                           report["holders"]["paid_cents"], "paid to holders (close)", result.paid_to_holders_cents),
        ReconciliationLine("Classes paid = holders + retained", "classes' interest + principal paid",
                           sum(c["interest_paid_cents"] + c["principal_paid_cents"] for c in classes),
                           "paid to holders + retained", result.paid_to_holders_cents + result.retained_cents),
    ]
    if not trust.overcollateralized:
        # Without overcollateralization the bonds' faces add up to the pool, and stay so; principal advanced
        # (scheduled/scheduled) and returned principal not yet recovered were paid down on the classes but
        # are still on the loans until they are recovered.
        returned = result.period_closed.returns_outstanding[1]
        advanced = report["advances"]["outstanding_principal_cents"]
        less = " less ".join(label for label, cents in (("principal advanced", advanced),
                                                        ("returned principal carried", returned)) if cents)
        lines.append(ReconciliationLine(
            "Class balances = pool balance", "classes' ending balances" + (" (IO notionals aside)" if structured else ""),
            sum(c["balance_end_cents"] for c in classes if c.get("kind") != "io"), "pool ending balance" + (f" less {less}" if less else ""),
            report["pool"]["balance_end_cents"] - advanced - returned))
    return lines


def balance_history(trust: Trust, period: str) -> tuple[list[str], list[Series]]:
    """Closed periods up to `period` (x labels), and the pool's then each class's ending balance in each."""
    pool = list(PeriodResult.objects.filter(trust=trust, period__lte=period).order_by("period")
                .values_list("period", "pool_balance_end_cents"))
    labels = [p for p, _ in pool]
    classes = list(SecurityClass.objects.filter(trust=trust).order_by("priority", "name"))
    ends: dict[tuple[int, str], int] = {
        (class_id, p): cents for class_id, p, cents in ClassPeriod.objects.filter(
            security_class__trust=trust, period__lte=period).values_list("security_class_id", "period",
                                                                          "balance_end_cents")}
    series = [Series(POOL_SERIES, tuple(cents for _, cents in pool))]
    for c in classes:
        series.append(Series(f"Class {c.name}", _carried(c.original_face_cents, [ends.get((c.id, p)) for p in labels])))
    return labels, series


def _carried(start: int, values: list[int | None]) -> tuple[int, ...]:
    # Every close writes a row per class; a missing one (a read model being rebuilt) repeats the last known.
    out, last = [], start
    for value in values:
        last = last if value is None else value
        out.append(last)
    return tuple(out)


def holder_payments(trust: Trust, period: str, limit: int = HOLDER_PAYMENTS_SHOWN) -> list[Distribution]:
    """The period's payments by holder and class, the first `limit` of them."""
    return list(Distribution.objects.filter(security_class__trust=trust, period=period)
                .select_related("holder", "security_class")
                .order_by("holder__code", "security_class__priority", "security_class__name")[:limit])
