"""LoanPosition handler for LoanTermsChanged, and the index values an ARM's rate changes read.

A terms change joins the position's terms timeline (its fold, servicing.events);
`IndexValueProjection` keeps one IndexValue row per index and day from the
IndexValueRecorded events of the `index:<name>` streams (rebuilt by replay).
"""
from __future__ import annotations

from collections.abc import Sequence

from ledger.domain.records import RecordedEvent
from ledger.projections import Projection
from servicing.events import IndexValueRecorded, LoanTermsChanged
from servicing.models import IndexValue
from servicing.projections import fold_event, handles

handles(LoanTermsChanged.event_type)(fold_event)


class IndexValueProjection(Projection):
    name = "servicing.index_values"
    event_types = frozenset({IndexValueRecorded.event_type})
    models = (IndexValue,)

    def apply(self, events: Sequence[RecordedEvent]) -> None:
        rows = []
        for event in events:
            fact = IndexValueRecorded.from_payload(event.payload)
            rows.append(IndexValue(index=fact.index, on=fact.on, percent=fact.percent, event_position=event.position))
        IndexValue.objects.bulk_create(rows)
