"""Projections of the trust and register streams: the pool and the register's lines."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from ledger.projections import Projection
from ledger.records import RecordedEvent
from trusts.models import Holder, HoldingMovement, PoolLoan, SecurityClass, Trust


class PoolProjection(Projection):
    name = "trusts.pool"
    event_types = frozenset({"PoolLoansTransferred", "PoolLoanRemoved"})
    models = (PoolLoan,)

    def apply(self, events: Sequence[RecordedEvent]) -> None:
        trusts = dict(Trust.objects.filter(code__in={e.stream.split(":", 1)[1] for e in events})
                      .values_list("code", "id"))
        for event in events:
            trust_id = trusts[event.stream.split(":", 1)[1]]
            if event.event_type == "PoolLoansTransferred":
                PoolLoan.objects.bulk_create([
                    PoolLoan(trust_id=trust_id, loan_id=item["loan_number"], price_cents=item["price_cents"],
                             cutoff_balance_cents=item["cutoff_balance_cents"], transferred_on=event.effective_date)
                    for item in event.payload["loans"]
                ])
            else:
                PoolLoan.objects.filter(trust_id=trust_id, loan_id=event.payload["loan_number"],
                                        removed_on__isnull=True).update(
                    removed_on=event.effective_date, removal_reason=event.payload["reason"])


class RegisterProjection(Projection):
    name = "trusts.register"
    event_types = frozenset({"CertificatesIssued", "HoldingTransferred"})
    models = (HoldingMovement,)

    def apply(self, events: Sequence[RecordedEvent]) -> None:
        codes = {e.stream.split(":", 1)[1] for e in events}
        classes = {(code, name): pk for code, name, pk in
                   SecurityClass.objects.filter(trust__code__in=codes).values_list("trust__code", "name", "pk")}
        lines = [(event, event.stream.split(":", 1)[1], line) for event in events for line in _lines(event)]
        # Only the holders these events name: the register may hold many thousands.
        holders = dict(Holder.objects.filter(code__in={line["holder"] for _, _, line in lines})
                       .values_list("code", "pk"))
        rows = [
            HoldingMovement(
                security_class_id=classes[(code, line["class"])], holder_id=holders[line["holder"]],
                face_cents=line["face_cents"], trade_date=line["trade_date"],
                settlement_date=line["settlement_date"], event_position=event.position,
            )
            for event, code, line in lines
        ]
        HoldingMovement.objects.bulk_create(rows, batch_size=2000)


def _lines(event: RecordedEvent) -> list[dict]:
    p = event.payload
    if event.event_type == "CertificatesIssued":
        day = event.effective_date
        return [{**h, "trade_date": day, "settlement_date": day} for h in p["holdings"]]
    trade, settle = date.fromisoformat(p["trade_date"]), date.fromisoformat(p["settlement_date"])
    return [
        {"class": p["class"], "holder": p["from_holder"], "face_cents": -p["face_cents"], "trade_date": trade,
         "settlement_date": settle},
        {"class": p["class"], "holder": p["to_holder"], "face_cents": p["face_cents"], "trade_date": trade,
         "settlement_date": settle},
    ]
