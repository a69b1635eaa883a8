"""The hash chain: a SHA-256 over each event's content and its predecessor's hash.

Pure functions. The canonical form is JSON with sorted keys and no spaces,
postings sorted, dates ISO and the recorded time in UTC to the microsecond,
so the same event always hashes the same on PostgreSQL and SQLite alike.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import date, datetime, timezone
from typing import Any

from ledger.domain.records import PostingLine


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _sorted_postings(postings: Iterable[PostingLine]) -> list[list[Any]]:
    return sorted([p.account, p.amount_cents] for p in postings)


def content_of(
    *, stream: str, event_type: str, payload: dict[str, Any], effective_date: date, postings: Iterable[PostingLine]
) -> dict[str, Any]:
    """What an event says, without where and when it was recorded: the idempotency comparison."""
    return {
        "stream": stream,
        "type": event_type,
        "payload": payload,
        "effective_date": effective_date.isoformat(),
        "postings": _sorted_postings(postings),
    }


def event_hash(
    *,
    previous_hash: str,
    position: int,
    version: int,
    content: dict[str, Any],
    recorded_at: datetime,
    acting_user_id: int | None,
    idempotency_key: str | None,
) -> str:
    """The hash of one event, chaining it to the previous event of its stream."""
    sealed = {
        "previous_hash": previous_hash,
        "position": position,
        "version": version,
        "content": content,
        "recorded_at": recorded_at.astimezone(timezone.utc).isoformat(timespec="microseconds"),
        "acting_user_id": acting_user_id,
        "idempotency_key": idempotency_key,
    }
    return hashlib.sha256(canonical_json(sealed).encode("utf-8")).hexdigest()
