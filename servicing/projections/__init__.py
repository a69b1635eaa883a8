"""The LoanPosition projection: one handler per event type, fed in batches.

Handlers live beside the services that record their events (boarding.py,
collections.py, escrow.py, default.py here) and are merged below. A handler
takes the loan's current position (None before boarding) and the event, and
returns the position after it; the projection loads the batch's positions in
one query and saves them in bulk. Every handler but boarding's is `fold_event`:
the event's typed fact applies its decision to the position (servicing.events).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

from ledger.bulk import among, insert_rows, update_rows
from ledger.projections import Projection
from ledger.domain.records import RecordedEvent
from servicing.events import COLLECTION_KEYS, DATE_FIELDS, POSITION_FIELDS, copy_snapshot, loan_fact
from servicing.models import LoanPosition

__all__ = ["COLLECTION_KEYS", "DATE_FIELDS", "POSITION_FIELDS", "HANDLERS", "handles", "fold_event",
           "copy_position_after", "loan_number_of", "LoanPositionProjection", "load_handlers"]

Handler = Callable[[LoanPosition | None, RecordedEvent], LoanPosition]

HANDLERS: dict[str, Handler] = {}
# Event types that start a position (boarding); every other handler is only
# called for a loan that already has one.
CREATING: set[str] = set()


def handles(*event_types: str, creates: bool = False):
    """Register a handler for event types of loan streams."""

    def register(fn: Handler) -> Handler:
        for event_type in event_types:
            if event_type in HANDLERS:
                raise ValueError(f"{event_type} already has a LoanPosition handler")
            HANDLERS[event_type] = fn
            if creates:
                CREATING.add(event_type)
        return fn

    return register


def copy_position_after(position: LoanPosition, after: dict) -> LoanPosition:
    """Set the fields a v1 `position_after` snapshot names on the position (the fold of a v1 event)."""
    return copy_snapshot(position, after)


def fold_event(position: LoanPosition, event: RecordedEvent) -> LoanPosition:
    """The position after a loan event: its typed fact's decision applied to the position before it."""
    return loan_fact(event).fold_into(position)


def loan_number_of(event: RecordedEvent) -> str:
    return event.stream.split(":", 1)[1]


class LoanPositionProjection(Projection):
    name = "servicing.loan_positions"
    models = (LoanPosition,)
    unstable_fields = frozenset()

    # Every event: any event on a loan stream moves the position's stream
    # version, which services use as their expected version, handler or not.
    event_types = None

    def apply(self, events: Sequence[RecordedEvent]) -> None:
        loan_events = [e for e in events if e.stream.startswith("loan:")]
        numbers = {loan_number_of(e) for e in loan_events}
        current = {p.loan_id: p for p in LoanPosition.objects.filter(loan_id__in=among(numbers))}
        existed = set(current)
        read = {number: _values(p) for number, p in current.items()}
        for event in loan_events:
            number = loan_number_of(event)
            position = current.get(number)
            if position is None and event.event_type not in CREATING:
                continue  # a stream with no boarded loan (yet) has no position to keep
            handler = HANDLERS.get(event.event_type)
            if handler is not None:
                position = handler(position, event)
            position.stream_version = event.version
            position.last_position = event.position
            current[number] = position
        new = [p for n, p in current.items() if n not in existed]
        changed = [p for n, p in current.items() if n in existed]
        insert_rows(LoanPosition, new)
        # Only the columns some event of the batch moved (a month's payments leave the terms, the status and
        # the losses as they were): the positions are read here under the log's lock, which every writer of
        # positions holds, so the columns left out still hold what was read.
        moved = {name for n, p in current.items() if n in existed
                 for name, was, now in zip(_FIELDS, read[n], _values(p)) if was != now}
        if moved:
            update_rows(LoanPosition, changed, [name for name in _FIELDS if name in moved])


_FIELDS = tuple(f.attname for f in LoanPosition._meta.concrete_fields if not f.primary_key)


def _values(position: LoanPosition) -> tuple:
    return tuple(getattr(position, name) for name in _FIELDS)


def load_handlers() -> None:
    """Import every module of this package, so their handlers register themselves."""
    import importlib
    import pkgutil

    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
