"""Checks an event must pass before anything is written. Pure functions."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from ledger.errors import IdempotencyConflict, InvalidEvent, UnbalancedEvent
from ledger.domain.money import MAX_ABS_CENTS, CentsError, require_cents
from ledger.domain.records import ACCOUNT_PATTERN, EVENT_TYPE_PATTERN, STREAM_PATTERN, NewEvent, StreamAppend


_SCALARS = (bool, int, type(None))


def check_payload(value: Any, path: str = "payload") -> None:
    """Payloads are plain JSON without floats, so they hash the same after a round trip.

    A walk with a stack rather than recursion, and the path of a node built
    only when it is wrong: every event of a million-loan month passes here.
    """
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(value, ())]
    while stack:
        node, where = stack.pop()
        kind = type(node)
        if kind is str:
            if "\x00" in node:
                raise InvalidEvent(f"{_path(path, where)} contains a NUL character")
        elif kind is dict:
            for key, item in node.items():
                if type(key) is not str:
                    raise InvalidEvent(f"{_path(path, where)} has a non-string key {key!r}")
                item_kind = type(item)
                if item_kind is str:
                    if "\x00" in item:  # a text value checked in place (most values): no trip through the stack
                        raise InvalidEvent(f"{_path(path, (*where, key))} contains a NUL character")
                elif item_kind not in _SCALARS:
                    stack.append((item, (*where, key)))
        elif kind is list or kind is tuple:
            stack.extend((item, (*where, i)) for i, item in enumerate(node) if type(item) not in _SCALARS)
        elif kind in _SCALARS:
            continue
        elif isinstance(node, float):
            raise InvalidEvent(f"{_path(path, where)} is a float; money is integer cents and rates are decimal strings")
        elif isinstance(node, (str, int)):
            # str and int subclasses (text choices) are JSON as their plain values
            if isinstance(node, str) and "\x00" in node:
                raise InvalidEvent(f"{_path(path, where)} contains a NUL character")
        else:
            raise InvalidEvent(f"{_path(path, where)} is a {kind.__name__}; use a string (dates ISO, decimals as text)")


def _path(root: str, where: tuple[str | int, ...]) -> str:
    return root + "".join(f"[{step}]" if type(step) is int else f".{step}" for step in where)


def check_event(stream: str, event: NewEvent) -> None:
    where = f"{event.event_type or '?'} on {stream}"
    if not isinstance(event.event_type, str) or not EVENT_TYPE_PATTERN.match(event.event_type):
        raise InvalidEvent(f"{where}: event type must be a past-tense CamelCase name like PaymentPosted")
    if not isinstance(event.effective_date, date) or hasattr(event.effective_date, "hour"):
        raise InvalidEvent(f"{where}: effective_date must be a date")
    if not isinstance(event.payload, dict):
        raise InvalidEvent(f"{where}: payload must be a JSON object")
    check_payload(event.payload)
    if event.idempotency_key is not None and not (0 < len(event.idempotency_key) <= 200):
        raise InvalidEvent(f"{where}: idempotency key must be 1 to 200 characters")
    check_postings(where, event)


def check_postings(where: str, event: NewEvent) -> None:
    for line in event.postings:
        if not isinstance(line.account, str) or not ACCOUNT_PATTERN.match(line.account) or len(line.account) > 200:
            raise InvalidEvent(f"{where}: {line.account!r} is not an account name like loan:L1:principal")
        amount = line.amount_cents
        # The usual amount is seen to be whole cents in range here, without building the message of a refusal.
        if type(amount) is not int or not -MAX_ABS_CENTS <= amount <= MAX_ABS_CENTS:
            try:
                require_cents(amount, f"{where}: amount on {line.account}", negative=True)
            except CentsError as error:
                raise InvalidEvent(str(error)) from None
        if line.amount_cents == 0:
            raise InvalidEvent(f"{where}: a posting of zero cents on {line.account} records nothing")
    total = sum(line.amount_cents for line in event.postings)
    if total != 0:
        raise UnbalancedEvent(f"{where}: postings sum to {total} cents, not zero")


def check_batch(appends: Sequence[StreamAppend]) -> None:
    """Every append well-formed, each stream once, each idempotency key once."""
    if not appends or not any(a.events for a in appends):
        raise InvalidEvent("nothing to append")
    streams: set[str] = set()
    keys: set[str] = set()
    for append in appends:
        if not isinstance(append.stream, str) or not STREAM_PATTERN.match(append.stream) or len(append.stream) > 200:
            raise InvalidEvent(f"{append.stream!r} is not a stream name like loan:L123")
        if append.stream in streams:
            raise InvalidEvent(f"stream {append.stream} appears twice in one batch; give its events together")
        streams.add(append.stream)
        if append.expected_version is not None and append.expected_version < 0:
            raise InvalidEvent(f"expected version of {append.stream} must not be negative")
        for event in append.events:
            check_event(append.stream, event)
            if event.idempotency_key is not None:
                if event.idempotency_key in keys:
                    raise IdempotencyConflict(event.idempotency_key, "used twice in one batch")
                keys.add(event.idempotency_key)
