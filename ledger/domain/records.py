"""Plain values for events: what callers append and what projections read.

Frozen dataclasses, free of the ORM, so projections and the money math can be
fed from a fresh append or from a replay of the stored log alike.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

STREAM_PATTERN = re.compile(r"^[a-z][a-z0-9_]*(:[A-Za-z0-9][A-Za-z0-9_.\-]*)+$")
ACCOUNT_PATTERN = STREAM_PATTERN
EVENT_TYPE_PATTERN = re.compile(r"^[A-Z][A-Za-z0-9]{2,99}$")


@dataclass(frozen=True, slots=True)
class PostingLine:
    """One line of a double entry: positive amounts are debits, negative credits."""

    account: str
    amount_cents: int


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event to append: a fact in the past tense with its postings."""

    event_type: str
    payload: dict[str, Any]
    effective_date: date
    postings: tuple[PostingLine, ...] = ()
    idempotency_key: str | None = None
    # The typed fact (a ledger.events.DomainEvent) the payload was written from, when it was: readers of
    # the same process (the projections fed by this append) take it instead of decoding the payload again.
    # Not stored, not hashed, not compared: the payload is the record.
    source_fact: Any = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        # Accept (account, cents) pairs and lists for convenience; store a tuple of PostingLine.
        lines = tuple(p if isinstance(p, PostingLine) else PostingLine(*p) for p in self.postings)
        object.__setattr__(self, "postings", lines)


@dataclass(frozen=True, slots=True)
class StreamAppend:
    """Events for one stream, expected at a version (None: at whatever its head is)."""

    stream: str
    expected_version: int | None
    events: tuple[NewEvent, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "events", tuple(self.events))


@dataclass(frozen=True, slots=True)
class RecordedEvent:
    """An event as stored in the log."""

    position: int
    stream: str
    version: int
    event_type: str
    payload: dict[str, Any]
    effective_date: date
    recorded_at: datetime
    acting_user_id: int | None
    idempotency_key: str | None
    previous_hash: str
    hash: str
    postings: tuple[PostingLine, ...] = field(default=())
    # As NewEvent.source_fact: set on an event just appended from a typed fact, None on one read from the log.
    source_fact: Any = field(default=None, compare=False, repr=False)
