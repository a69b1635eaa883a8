"""Projections of the close's events: period results, class periods and holder distributions.

Every row is a fold of the log: `rebuild_projections` empties PeriodResult,
ClassPeriod and Distribution and replays PeriodClosed, ClassDistributed and
DistributionPaid into them, read through their typed classes (so an event
recorded at an older schema version is upcast, never rewritten).
"""
from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from ledger.bulk import insert_rows
from ledger.projections import Projection
from ledger.domain.records import RecordedEvent
from remittance.domain.close_figures import interest_collected_cents, principal_collected_cents
from remittance.events import ClassDistributed, DistributionPaid, PeriodClosed
from remittance.models import ClassPeriod, Distribution, PeriodResult
from trusts import investor_reads
from trusts.models import Holder, SecurityClass, Trust


class RemittanceProjection(Projection):
    name = "remittance.results"
    event_types = frozenset({PeriodClosed.event_type, ClassDistributed.event_type, DistributionPaid.event_type})
    models = (Distribution, ClassPeriod, PeriodResult)

    def apply(self, events: Sequence[RecordedEvent]) -> None:
        typed = [(e, _decode(e)) for e in events]
        codes = {fact.trust for _, fact in typed}
        trusts = dict(Trust.objects.filter(code__in=codes).values_list("code", "pk"))
        classes = {(code, name): pk for code, name, pk in SecurityClass.objects.filter(trust__code__in=codes)
                   .values_list("trust__code", "name", "pk")}
        holders = dict(Holder.objects.filter(code__in={_holder_code(e) for e, fact in typed
                                                       if isinstance(fact, DistributionPaid)})
                       .values_list("code", "pk"))
        results, class_rows, payments = [], [], []
        for e, fact in typed:
            if isinstance(fact, PeriodClosed):
                results.append(period_result(fact, trust_id=trusts[fact.trust], event_position=e.position,
                                             recorded_payload=e.payload))
            elif isinstance(fact, ClassDistributed):
                class_rows.append(_class_period(fact, classes[(fact.trust, fact.class_name)], e.position))
            else:
                payments.append(_distribution(fact, classes[(fact.trust, fact.class_name)],
                                              holders[_holder_code(e)], e.position))
        # One COPY each on PostgreSQL (a month-end group's closes hold thousands of holder payments).
        insert_rows(PeriodResult, results)
        insert_rows(ClassPeriod, class_rows)
        insert_rows(Distribution, payments)
        # Factors and distributions changed: investors' cached answers are stale once this commits.
        investor_reads.changed()

    def clear(self) -> None:
        super().clear()
        investor_reads.changed()


_TYPES = {cls.event_type: cls for cls in (PeriodClosed, ClassDistributed, DistributionPaid)}


def _decode(e: RecordedEvent) -> PeriodClosed | ClassDistributed | DistributionPaid:
    return _TYPES[e.event_type].from_payload(e.payload)


def _holder_code(e: RecordedEvent) -> str:
    return e.stream.split(":", 1)[1]  # a DistributionPaid is on its holder's stream, holder:CODE


def period_result(closed: PeriodClosed, *, trust_id: int, event_position: int,
                  recorded_payload: dict | None = None) -> PeriodResult:
    """The PeriodResult row a PeriodClosed projects to (the verifier builds it too, to compare).

    `figures` keeps the payload as recorded, at whatever schema version it was recorded in (so a
    database written before events were typed needs no rebuild to agree with a replay): read it
    through `PeriodResult.period_closed`, which upcasts it, never by key.
    """
    return PeriodResult(
        trust_id=trust_id, period=closed.period, record_date=closed.record_date,
        payment_date=closed.payment_date, through_position=closed.window.through_position,
        interest_collected_cents=interest_collected_cents(closed.collected),
        principal_collected_cents=principal_collected_cents(closed.collected),
        realized_loss_cents=closed.realized_loss_cents, servicing_fee_cents=closed.fee_paid_cents,
        issuer_spread_cents=closed.spread_paid_cents, paid_to_holders_cents=closed.paid_to_holders_cents,
        excess_cents=closed.excess_cents, retained_cents=closed.retained_cents,
        prior_period_cents=closed.prior_period_cents, pool_balance_begin_cents=closed.pool_balance_begin_cents,
        pool_balance_end_cents=closed.pool_balance_end_cents, pool_factor=Decimal(closed.pool_factor),
        figures=closed.to_payload() if recorded_payload is None else recorded_payload,
        event_position=event_position,
    )


def _class_period(fact: ClassDistributed, class_id: int, event_position: int) -> ClassPeriod:
    return ClassPeriod(
        security_class_id=class_id, period=fact.period, payment_date=fact.payment_date,
        balance_begin_cents=fact.balance_begin_cents, interest_due_cents=fact.interest_due_cents,
        interest_paid_cents=fact.interest_paid_cents, interest_shortfall_cents=fact.interest_shortfall_cents,
        principal_paid_cents=fact.principal_paid_cents, loss_written_off_cents=fact.loss_written_off_cents,
        balance_end_cents=fact.balance_end_cents, factor=Decimal(fact.factor), event_position=event_position,
        interest_accrued_cents=fact.interest_accrued_cents, kind=fact.kind,
    )


def _distribution(fact: DistributionPaid, class_id: int, holder_id: int, event_position: int) -> Distribution:
    return Distribution(
        holder_id=holder_id, security_class_id=class_id, period=fact.period, record_date=fact.record_date,
        payment_date=fact.payment_date, face_held_cents=fact.face_held_cents, interest_cents=fact.interest_cents,
        principal_cents=fact.principal_cents, event_position=event_position,
    )
