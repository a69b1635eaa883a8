"""The hash chain's canonical form and the checks made before writing."""
from datetime import date, datetime, timedelta, timezone

import pytest

from ledger.errors import IdempotencyConflict, InvalidEvent
from ledger.domain.hashing import content_of, event_hash
from ledger.domain.records import NewEvent, PostingLine, StreamAppend
from ledger.domain.validation import check_batch

WHEN = datetime(2026, 1, 31, 12, 0, tzinfo=timezone.utc)


def _hash(**overrides):
    content = content_of(stream="loan:L1", event_type="PaymentPosted", payload={"b": 1, "a": [1, "x"]},
                         effective_date=date(2026, 1, 31), postings=[PostingLine("a:b", 5), PostingLine("c:d", -5)])
    args = dict(previous_hash="0" * 64, position=1, version=1, content=content, recorded_at=WHEN,
                acting_user_id=None, idempotency_key=None)
    args.update(overrides)
    return event_hash(**args)


def test_hash_is_stable_across_time_zones_and_key_order():
    same_instant = WHEN.astimezone(timezone(timedelta(hours=-5)))
    assert _hash() == _hash(recorded_at=same_instant)
    reordered = content_of(stream="loan:L1", event_type="PaymentPosted", payload={"a": [1, "x"], "b": 1},
                           effective_date=date(2026, 1, 31), postings=[PostingLine("c:d", -5), PostingLine("a:b", 5)])
    assert _hash() == _hash(content=reordered)


@pytest.mark.parametrize("field, value", [("previous_hash", "1" * 64), ("position", 2), ("version", 2),
                                          ("acting_user_id", 7), ("idempotency_key", "k")])
def test_every_sealed_field_changes_the_hash(field, value):
    assert _hash() != _hash(**{field: value})


def _event(**kw):
    base = dict(event_type="PaymentPosted", payload={}, effective_date=date(2026, 1, 1))
    base.update(kw)
    return NewEvent(**base)


def test_batch_rules():
    with pytest.raises(InvalidEvent, match="nothing to append"):
        check_batch([])
    with pytest.raises(InvalidEvent, match="appears twice"):
        check_batch([StreamAppend("loan:L1", 0, (_event(),)), StreamAppend("loan:L1", 1, (_event(),))])
    with pytest.raises(IdempotencyConflict, match="used twice in one batch"):
        check_batch([StreamAppend("loan:L1", 0, (_event(idempotency_key="k"), _event(idempotency_key="k")))])
    with pytest.raises(InvalidEvent, match="NUL"):
        check_batch([StreamAppend("loan:L1", 0, (_event(payload={"x": "a\x00b"}),))])
    with pytest.raises(InvalidEvent, match="datetime"):
        check_batch([StreamAppend("loan:L1", 0, (_event(payload={"x": WHEN}),))])
