"""The collection lines: every loan event's `collections`, one row each, for the close to sum."""
from __future__ import annotations

from collections.abc import Sequence

from ledger.bulk import copy_rows, insert_rows, is_postgres
from ledger.projections import Projection
from ledger.domain.records import RecordedEvent
from servicing.events import COLLECTION_KEYS, collections_of
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
                rows.append((event.position, loan_number_of(event), event.effective_date,
                             *(getattr(collected, key) for key in COLLECTION_KEYS)))
        if not rows:
            return
        if is_postgres():
            # Straight from tuples: a model instance per row cost more than its COPY.
            copy_rows(CollectionLine, COLUMNS, rows)
            return
        insert_rows(CollectionLine, [CollectionLine(**dict(zip(COLUMNS, row))) for row in rows])


COLUMNS = ("event_position", "loan_id", "effective_date", *COLLECTION_KEYS)
