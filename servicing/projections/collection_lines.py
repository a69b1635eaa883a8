"""The collection lines: every loan event's `collections`, one row each, for the close to sum."""
from __future__ import annotations

from collections.abc import Sequence

from ledger.bulk import insert_rows
from ledger.projections import Projection
from ledger.records import RecordedEvent
from servicing.models import CollectionLine
from servicing.projections import COLLECTION_KEYS, loan_number_of


class CollectionLineProjection(Projection):
    name = "servicing.collection_lines"
    event_types = None  # any loan event may carry collections; the payload says
    models = (CollectionLine,)
    unstable_fields = frozenset()

    def apply(self, events: Sequence[RecordedEvent]) -> None:
        rows = [_line(e) for e in events if e.stream.startswith("loan:") and _collected(e)]
        insert_rows(CollectionLine, rows)


def _collected(event: RecordedEvent) -> bool:
    amounts = event.payload.get("collections") or {}
    return any(amounts.get(key) for key in COLLECTION_KEYS)


def _line(event: RecordedEvent) -> CollectionLine:
    amounts = event.payload["collections"]
    return CollectionLine(event_position=event.position, loan_id=loan_number_of(event),
                          effective_date=event.effective_date, **{key: amounts[key] for key in COLLECTION_KEYS})
