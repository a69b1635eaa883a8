"""Projections of the close's events: period results, class periods and holder distributions."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from ledger.projections import Projection
from ledger.records import RecordedEvent
from remittance.models import ClassPeriod, Distribution, PeriodResult
from trusts.models import Holder, SecurityClass, Trust


class RemittanceProjection(Projection):
    name = "remittance.results"
    event_types = frozenset({"PeriodClosed", "ClassDistributed", "DistributionPaid"})
    models = (Distribution, ClassPeriod, PeriodResult)

    def apply(self, events: Sequence[RecordedEvent]) -> None:
        codes = {e.payload["trust"] for e in events}
        trusts = dict(Trust.objects.filter(code__in=codes).values_list("code", "pk"))
        classes = {(code, name): pk for code, name, pk in SecurityClass.objects.filter(trust__code__in=codes)
                   .values_list("trust__code", "name", "pk")}
        holders = dict(Holder.objects.filter(code__in={e.stream.split(":", 1)[1] for e in events
                                                       if e.event_type == "DistributionPaid"})
                       .values_list("code", "pk"))
        results, class_rows, payments = [], [], []
        for e in events:
            p = e.payload
            if e.event_type == "PeriodClosed":
                results.append(_result(e, trusts[p["trust"]]))
            elif e.event_type == "ClassDistributed":
                class_rows.append(_class_period(e, classes[(p["trust"], p["class"])]))
            else:
                payments.append(_distribution(e, classes[(p["trust"], p["class"])],
                                              holders[e.stream.split(":", 1)[1]]))
        PeriodResult.objects.bulk_create(results)
        ClassPeriod.objects.bulk_create(class_rows)
        Distribution.objects.bulk_create(payments, batch_size=2000)


def _result(e: RecordedEvent, trust_id: int) -> PeriodResult:
    p = e.payload
    collected = p["collected"]
    return PeriodResult(
        trust_id=trust_id, period=p["period"], record_date=date.fromisoformat(p["record_date"]),
        payment_date=date.fromisoformat(p["payment_date"]), through_position=p["window"]["through_position"],
        interest_collected_cents=collected["interest"] + collected["repurchase_interest"],
        principal_collected_cents=sum(v for k, v in collected.items()
                                      if k not in ("interest", "repurchase_interest", "realized_loss")),
        realized_loss_cents=collected["realized_loss"], servicing_fee_cents=p["fee_paid_cents"],
        issuer_spread_cents=p["spread_paid_cents"], paid_to_holders_cents=p["paid_to_holders_cents"],
        excess_cents=p["excess_interest_cents"] + p["excess_principal_cents"], retained_cents=p["retained_cents"],
        prior_period_cents=p["prior_period_cents"], pool_balance_begin_cents=p["pool_balance_begin_cents"],
        pool_balance_end_cents=p["pool_balance_end_cents"], pool_factor=Decimal(p["pool_factor"]), figures=p,
        event_position=e.position,
    )


def _class_period(e: RecordedEvent, class_id: int) -> ClassPeriod:
    p = e.payload
    return ClassPeriod(
        security_class_id=class_id, period=p["period"], payment_date=date.fromisoformat(p["payment_date"]),
        balance_begin_cents=p["balance_begin_cents"], interest_due_cents=p["interest_due_cents"],
        interest_paid_cents=p["interest_paid_cents"], interest_shortfall_cents=p["interest_shortfall_cents"],
        principal_paid_cents=p["principal_paid_cents"], loss_written_off_cents=p["loss_written_off_cents"],
        balance_end_cents=p["balance_end_cents"], factor=Decimal(p["factor"]), event_position=e.position,
    )


def _distribution(e: RecordedEvent, class_id: int, holder_id: int) -> Distribution:
    p = e.payload
    return Distribution(
        holder_id=holder_id, security_class_id=class_id, period=p["period"],
        record_date=date.fromisoformat(p["record_date"]), payment_date=date.fromisoformat(p["payment_date"]),
        face_held_cents=p["face_held_cents"], interest_cents=p["interest_cents"],
        principal_cents=p["principal_cents"], event_position=e.position,
    )
