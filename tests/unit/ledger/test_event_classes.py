"""Typed events: a payload round-trips, old versions are upcast on read, bad payloads are named."""
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import ClassVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.events import DomainEvent, EventSchemaError, class_for, event_class, upcaster


@dataclass(frozen=True, slots=True)
class SampleLine:
    name: str
    cents: int


@event_class
@dataclass(frozen=True, slots=True)
class SampleHappened(DomainEvent):
    event_type: ClassVar[str] = "SampleHappened"
    schema_version: ClassVar[int] = 2
    on: date
    lines: tuple[SampleLine, ...]
    rate: Decimal
    note: str | None = None


@upcaster(SampleHappened, from_version=1)
def _one_amount_became_lines(payload):
    payload = dict(payload)
    return {**payload, "lines": [{"name": "all", "cents": payload.pop("cents")}]}


lines = st.lists(st.builds(SampleLine, st.text(max_size=5), st.integers(-10**12, 10**12)), max_size=4)


@given(on=st.dates(), items=lines, note=st.none() | st.text(max_size=8))
def test_a_payload_round_trips(on, items, note):
    event = SampleHappened(on=on, lines=tuple(items), rate=Decimal("4.125"), note=note)
    payload = event.to_payload()
    assert payload["schema_version"] == 2
    assert SampleHappened.from_payload(payload) == event


def test_a_version_one_payload_is_upcast_when_read():
    old = {"on": "2026-01-02", "cents": 700, "rate": "4.5"}
    event = SampleHappened.from_payload(old)
    assert event.lines == (SampleLine("all", 700),)
    assert old == {"on": "2026-01-02", "cents": 700, "rate": "4.5"}  # the stored payload is never changed


def test_a_newer_version_than_the_code_is_refused():
    with pytest.raises(EventSchemaError, match="newer than this code"):
        SampleHappened.from_payload({"schema_version": 3, "on": "2026-01-02", "lines": [], "rate": "1"})


def test_a_missing_or_mistyped_field_is_named():
    with pytest.raises(EventSchemaError, match="'rate'"):
        SampleHappened.from_payload({"schema_version": 2, "on": "2026-01-02", "lines": []})
    with pytest.raises(EventSchemaError, match="'lines'"):
        SampleHappened.from_payload({"schema_version": 2, "on": "2026-01-02", "lines": [{"name": "a", "cents": "5"}],
                                     "rate": "1"})


def test_one_class_per_event_type():
    assert class_for("SampleHappened") is SampleHappened
    with pytest.raises(TypeError, match="already declared"):
        @event_class
        @dataclass(frozen=True, slots=True)
        class Other(DomainEvent):
            event_type: ClassVar[str] = "SampleHappened"


def test_a_query_filters_only_by_a_key_the_class_declares_stored_in_every_version():
    @event_class
    @dataclass(frozen=True, slots=True)
    class KeyedHappened(DomainEvent):
        event_type: ClassVar[str] = "KeyedHappened"
        stored_keys: ClassVar[frozenset[str]] = frozenset({"loan_number"})
        loan_number: str
        cents: int

    assert KeyedHappened.payload_path("loan_number") == "payload__loan_number"
    # A field the class does not vouch for (an upcaster may rename it) is read from the typed event instead.
    with pytest.raises(EventSchemaError, match="'cents'"):
        KeyedHappened.payload_path("cents")
    with pytest.raises(EventSchemaError, match="'lines'"):
        SampleHappened.payload_path("lines")
