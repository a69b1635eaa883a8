"""The collection lines: every loan event's `collections`, one row each, for the close to sum."""
from __future__ import annotations

from collections.abc import Sequence

from ledger.bulk import insert_rows
from ledger.projections import Projection
from ledger.domain.records import RecordedEvent
from servicing.events import collections_of
from servicing.models import CollectionLine
from servicing.projections import loan_number_of


class CollectionLineProjection(Projection):
    name = "servicing.collection_lines"
    event_types = None  # any loan event may carry collections; its typed fact says
    models = (CollectionLine,)
    unstable_fields = frozenset()

    def apply(self, events: Sequence[RecordedEvent]) -> None:
        rows = []
        for event in events:
            if not event.stream.startswith("loan:"):
                continue
            collected = collections_of(event)
            if collected.any:
                rows.append(CollectionLine(event_position=event.position, loan_id=loan_number_of(event),
                                           effective_date=event.effective_date, **collected.as_dict()))
        insert_rows(CollectionLine, rows)
