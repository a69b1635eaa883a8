"""Who is told, once a close has committed, of the events it recorded: listeners the apps above register.

An app above remittance (webhooks) wants to act on a close (push "period
closed" and "distribution paid" to subscribers) without remittance knowing it
exists: it registers a listener in its AppConfig.ready, and the closing
service announces the events it appended. Each listener runs after the
close's transaction commits (`transaction.on_commit`, robust: a listener's
failure is logged and never undoes or fails a committed close), so nothing
it does, network I/O included, runs inside the ledger's append transaction,
and a close rolled back announces nothing.

Only a close announces: a rebuild of the projections replays the same events
through the projections, never through here, so it tells no listener anything.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

from django.db import transaction

from ledger.domain.records import RecordedEvent

Listener = Callable[[Sequence[RecordedEvent]], None]
_listeners: list[Listener] = []


def register_close_listener(listener: Listener) -> None:
    """Call `listener(events)` after every close commits (idempotent: ready() may run twice)."""
    if listener not in _listeners:
        _listeners.append(listener)


def closes_recorded(events: Sequence[RecordedEvent]) -> None:
    """These events of one or more closes were appended in the current transaction: tell the listeners on commit."""
    if not _listeners or not events:
        return
    recorded = tuple(events)
    for listener in tuple(_listeners):
        transaction.on_commit(partial(listener, recorded), robust=True)
