"""What each event kind sends: the JSON a subscriber receives, built from the close's typed events.

Three kinds (KINDS): `period_closed` (a trust's period closed: dates, the
pool and each class's factor and balance after it), `distribution_paid` (one
holder's payment on one class), `statement_ready` (a holder's statement for
the period can be read; one per holder and trust close). Money is a string of
dollars with two decimals, factors strings, dates ISO, as in the REST API.
The envelope names the kind, the log position of the fact and when it was
recorded, so a receiver can order and de-duplicate (with X-MBS-Delivery).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from ledger.domain.money import dollars
from remittance.events import DistributionPaid, PeriodClosed

PERIOD_CLOSED = "period_closed"
DISTRIBUTION_PAID = "distribution_paid"
STATEMENT_READY = "statement_ready"
KINDS: tuple[str, ...] = (PERIOD_CLOSED, DISTRIBUTION_PAID, STATEMENT_READY)


def envelope(kind: str, *, position: int, recorded_at: datetime, data: dict[str, Any]) -> dict[str, Any]:
    """The body of every webhook: the kind, where the fact is in the log, when it was recorded, and its data."""
    return {"kind": kind, "event_position": position, "recorded_at": recorded_at.isoformat(), "data": data}


def period_closed(fact: PeriodClosed) -> dict[str, Any]:
    return {
        "trust": fact.trust, "period": fact.period, "record_date": fact.record_date.isoformat(),
        "payment_date": fact.payment_date.isoformat(), "pool_balance": dollars(fact.pool_balance_end_cents),
        "pool_factor": fact.pool_factor,
        "classes": [{"class": c.class_name, "factor": c.factor, "balance": dollars(c.balance_end_cents),
                     "interest_paid": dollars(c.interest_paid_cents), "principal_paid": dollars(c.principal_paid_cents)}
                    for c in fact.classes],
        "report_path": f"/api/v1/trusts/{fact.trust}/reports/{fact.period}/",
    }


def distribution_paid(fact: DistributionPaid, *, holder: str) -> dict[str, Any]:
    return {
        "holder": holder, "trust": fact.trust, "class": fact.class_name, "period": fact.period,
        "record_date": fact.record_date.isoformat(), "payment_date": fact.payment_date.isoformat(),
        "face_held": dollars(fact.face_held_cents), "interest": dollars(fact.interest_cents),
        "principal": dollars(fact.principal_cents), "total": dollars(fact.interest_cents + fact.principal_cents),
    }


def statement_ready(fact: DistributionPaid, *, holder: str) -> dict[str, Any]:
    return {"holder": holder, "period": fact.period, "trust": fact.trust,
            "statement_path": f"/api/v1/me/statements/{fact.period}/"}
