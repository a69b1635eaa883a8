"""The generated payload writer of an event class writes exactly what the field-by-field walk writes.

`DomainEvent.to_payload` runs a function generated per class (ledger.events
`_payload_writer`) instead of walking the fields; payloads are sealed into the
hash chain, so it must agree with the walk (`_dump_fields`) to the key order,
for the values the annotations predict and for any other value a field holds.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, ClassVar

import pytest

from ledger.events import VERSION_KEY, DomainEvent, _dataclass_fields, _dump_fields, declared_types


class Kind(str, enum.Enum):
    CASH = "cash"


@dataclass(frozen=True, slots=True)
class Part:
    cents: int
    on: date | None = None


@dataclass(frozen=True, slots=True)
class SampleWritten(DomainEvent):
    event_type: ClassVar[str] = "SampleWritten"
    schema_version: ClassVar[int] = 3

    name: str
    cents: int
    on: date
    maybe_on: date | None
    rate: Decimal
    part: Part
    dates: tuple[date, ...]
    parts: tuple[Part, ...]
    extra: dict[str, Any] | None = None


def _walked(event: DomainEvent) -> dict[str, Any]:
    payload = _dump_fields(event, _dataclass_fields(type(event)) or ())
    if event.schema_version > 1:
        payload[VERSION_KEY] = event.schema_version
    return payload


SAMPLES = [
    SampleWritten(name="L1", cents=5, on=date(2026, 1, 2), maybe_on=None, rate=Decimal("0.0450"),
                  part=Part(3, date(2026, 2, 1)), dates=(date(2026, 1, 1), date(2026, 2, 1)), parts=(Part(1),)),
    # Values other than the annotations predict: a datetime for a date, a str enum, a list for a tuple,
    # a dict for a dataclass, nested mappings.
    SampleWritten(name=Kind.CASH, cents=True, on=datetime(2026, 1, 2, 3, 4, tzinfo=UTC),  # type: ignore[arg-type]
                  maybe_on=date(2026, 3, 1), rate="1.5", part={"cents": 2},  # type: ignore[arg-type]
                  dates=[date(2026, 1, 1), "2026-01-02"], parts=(), extra={"a": [Part(4), (1, 2)]}),  # type: ignore[arg-type]
]


@pytest.mark.parametrize("event", SAMPLES)
def test_writer_agrees_with_the_walk_to_the_key_order(event):
    written, walked = event.to_payload(), _walked(event)
    assert written == walked
    assert list(written) == list(walked)
    assert [list(v) if isinstance(v, dict) else v for v in written.values()] == \
        [list(v) if isinstance(v, dict) else v for v in walked.values()]


def test_every_declared_class_gets_a_writer():
    # Importing the apps' events declares them; each class's writer is generated without error.
    from ledger.events import _payload_writer

    for cls in declared_types().values():
        assert callable(_payload_writer(cls))
