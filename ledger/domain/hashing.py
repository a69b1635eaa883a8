"""The hash chain: a SHA-256 over each event's content and its predecessor's hash.

Pure functions. The canonical form is JSON with sorted keys and no spaces,
postings sorted, dates ISO and the recorded time in UTC to the microsecond,
so the same event always hashes the same on PostgreSQL and SQLite alike.

The canonical text is the standard library's `json.dumps(sort_keys=True,
separators=(",", ":"), ensure_ascii=False)`: every event ever sealed was hashed
over it, so it can never change. orjson writes the same bytes about ten times
faster for the values events hold (dicts with text keys, lists, text, integers
within 64 bits, booleans, null), and `canonical_json_bytes` uses it only for
those. Anything else (a float, whose NaN orjson writes as null; an integer
beyond 64 bits; a non-text key; a lone surrogate; a type the standard library
refuses but orjson writes, like a UUID or an enum) goes to the standard
library, so the output, or the error, is exactly what it always was.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import date, datetime, timezone
from typing import Any

import orjson

from ledger.domain.records import PostingLine


_SORT_KEYS = orjson.OPT_SORT_KEYS


def canonical_json(value: Any) -> str:
    """The canonical text of a JSON value: sorted keys, no spaces, non-ASCII as is."""
    fast = _orjson(value)
    return fast.decode("utf-8") if fast is not None else _stdlib_json(value)


def canonical_json_bytes(value: Any) -> bytes:
    """`canonical_json(value)` encoded as UTF-8, without the detour through a str where orjson can write it."""
    fast = _orjson(value)
    return fast if fast is not None else _stdlib_json(value).encode("utf-8")


def _orjson(value: Any) -> bytes | None:
    """orjson's canonical bytes when they are certainly the standard library's; None to fall back."""
    try:
        if _plain(value):
            return orjson.dumps(value, option=_SORT_KEYS)
    except (TypeError, RecursionError):  # orjson.JSONEncodeError: beyond 64 bits, a lone surrogate, too deep
        pass
    return None


def _stdlib_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _plain(value: Any) -> bool:
    """True when `value` holds only what orjson and the standard library write alike.

    Exact types on purpose: a subclass may be written differently by the two
    (an int enum, say), and the fallback is always right, only slower.
    """
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return True
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str or not _plain(item):
                return False
        return True
    if kind is list or kind is tuple:
        for item in value:
            if not _plain(item):
                return False
        return True
    return False


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
    sealed = sealed_form(
        previous_hash=previous_hash, position=position, version=version, content=content,
        recorded_at=recorded_at, acting_user_id=acting_user_id, idempotency_key=idempotency_key,
    )
    return hashlib.sha256(canonical_json_bytes(sealed)).hexdigest()


def sealed_form(
    *,
    previous_hash: str,
    position: int,
    version: int,
    content: dict[str, Any],
    recorded_at: datetime,
    acting_user_id: int | None,
    idempotency_key: str | None,
) -> dict[str, Any]:
    """What the hash of one event is taken over (as canonical JSON): its content and where and when it was recorded."""
    return {
        "previous_hash": previous_hash,
        "position": position,
        "version": version,
        "content": content,
        "recorded_at": recorded_at.astimezone(timezone.utc).isoformat(timespec="microseconds"),
        "acting_user_id": acting_user_id,
        "idempotency_key": idempotency_key,
    }
