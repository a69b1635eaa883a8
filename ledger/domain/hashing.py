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

Telling those apart costs a walk of the value, several times what orjson
takes to write it. A payload `ledger.domain.validation.check_payload` passed
holds no float and no type only orjson knows (it refuses them), so the ledger
seals and copies such events with `checked=True`: no walk, and orjson told to
hand anything but exact str, int, dict and list (a subclass, a date, a
dataclass) back to its `default`, which sends the whole value to the standard
library.
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


def canonical_json(value: Any, *, checked: bool = False) -> str:
    """The canonical text of a JSON value: sorted keys, no spaces, non-ASCII as is (checked: see below)."""
    fast = _orjson_checked(value) if checked else _orjson(value)
    return fast.decode("utf-8") if fast is not None else _stdlib_json(value)


def canonical_json_bytes(value: Any, *, checked: bool = False) -> bytes:
    """`canonical_json(value)` encoded as UTF-8, without the detour through a str where orjson can write it.

    checked: the caller vouches `value` holds no float, UUID or plain enum anywhere (an event whose payload
    passed `check_payload`, in metadata of str, int and None), so the walk is skipped.
    """
    fast = _orjson_checked(value) if checked else _orjson(value)
    return fast if fast is not None else _stdlib_json(value).encode("utf-8")


def _orjson(value: Any) -> bytes | None:
    """orjson's canonical bytes when they are certainly the standard library's; None to fall back."""
    try:
        if _plain(value):
            return orjson.dumps(value, option=_SORT_KEYS)
    except TypeError:  # orjson.JSONEncodeError: beyond 64 bits, a lone surrogate, nested too deep
        pass
    return None


_CHECKED = (orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_SUBCLASS | orjson.OPT_PASSTHROUGH_DATETIME
            | orjson.OPT_PASSTHROUGH_DATACLASS)


def _not_plain(value: Any) -> Any:
    raise TypeError(f"{type(value).__name__} is for the standard library to write")


def _orjson_checked(value: Any) -> bytes | None:
    """orjson's bytes for a value vouched float-free; None (to fall back) for anything not exact JSON types."""
    try:
        return orjson.dumps(value, default=_not_plain, option=_CHECKED)
    except TypeError:
        return None


def _stdlib_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


_LEAVES = frozenset({str, int, bool, type(None)})
_NESTS = frozenset({dict, list, tuple})


def _plain(value: Any) -> bool:
    """True when `value` holds only what orjson and the standard library write alike.

    Exact types on purpose: a subclass may be written differently by the two
    (an int enum, say), and the fallback is always right, only slower. A walk
    with a stack and the leaves checked in place: every event is walked twice
    (its hash, its COPY), and a call per node would cost more than orjson.
    """
    kind = type(value)
    if kind in _LEAVES:
        return True
    if kind not in _NESTS:
        return False
    stack = [value]
    while stack:
        node = stack.pop()
        if type(node) is dict:
            for key, item in node.items():
                if type(key) is not str:
                    return False
                kind = type(item)
                if kind not in _LEAVES:
                    if kind not in _NESTS:
                        return False
                    stack.append(item)
        else:
            for item in node:
                kind = type(item)
                if kind not in _LEAVES:
                    if kind not in _NESTS:
                        return False
                    stack.append(item)
    return True


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
    checked: bool = False,
) -> str:
    """The hash of one event, chaining it to the previous event of its stream.

    checked: the content's payload passed `check_payload` (see `canonical_json_bytes`); the hash is the same.
    """
    sealed = sealed_form(
        previous_hash=previous_hash, position=position, version=version, content=content,
        recorded_at=recorded_at, acting_user_id=acting_user_id, idempotency_key=idempotency_key,
    )
    return hashlib.sha256(canonical_json_bytes(sealed, checked=checked)).hexdigest()


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
