"""Appending events: order, versions, chain, balances, projections, refusals."""
from datetime import date

import pytest

from ledger.errors import ConcurrencyConflict, IdempotencyConflict, InvalidEvent, UnbalancedEvent
from ledger.models import AccountBalance, Event, LogPosition, Posting, Stream
from ledger.domain.records import NewEvent, PostingLine, StreamAppend
from ledger.selectors import account_balance, balances_under, prefix_balance, stream_events
from ledger.services import append, append_batch, transfer
from tests.actors import TESTS
from tests.integration.ledger.helpers import cash_event

pytestmark = pytest.mark.django_db


def test_append_assigns_positions_versions_and_a_hash_chain():
    first = append(stream="loan:L1", expected_version=0, events=[cash_event(100), cash_event(200)], acting_user=TESTS)
    second = append(stream="loan:L2", expected_version=0, events=[cash_event(300, account="loan:L2:principal")],
                    acting_user=TESTS)
    third = append(stream="loan:L1", expected_version=2, events=[cash_event(400)], acting_user=TESTS)
    assert [e.position for e in first + second + third] == [1, 2, 3, 4]
    assert [e.version for e in stream_events("loan:L1")] == [1, 2, 3]
    chain = stream_events("loan:L1")
    assert chain[0].previous_hash == "0" * 64
    assert chain[1].previous_hash == chain[0].hash and chain[2].previous_hash == chain[1].hash
    assert Stream.objects.get(name="loan:L1").version == 3
    assert LogPosition.objects.get(id=1).last_position == 4


def test_stale_expected_version_is_a_clear_conflict_and_writes_nothing():
    append(stream="loan:L1", expected_version=0, events=[cash_event()], acting_user=TESTS)
    with pytest.raises(ConcurrencyConflict, match="loan:L1 is at version 1, not the expected 0"):
        append(stream="loan:L1", expected_version=0, events=[cash_event()], acting_user=TESTS)
    assert Event.objects.count() == 1


def test_unbalanced_event_is_rejected_before_writing():
    bad = NewEvent("PaymentPosted", {}, date(2026, 1, 1), (PostingLine("a:b", 100), PostingLine("c:d", -99)))
    with pytest.raises(UnbalancedEvent, match="sum to 1 cents"):
        append(stream="loan:L1", expected_version=0, events=[bad], acting_user=TESTS)
    assert Event.objects.count() == 0 and Posting.objects.count() == 0


@pytest.mark.parametrize(
    "event, message",
    [
        (NewEvent("paid", {}, date(2026, 1, 1)), "CamelCase"),
        (NewEvent("PaymentPosted", {"x": 1.5}, date(2026, 1, 1)), "float"),
        (NewEvent("PaymentPosted", {}, "2026-01-01"), "must be a date"),
        (NewEvent("PaymentPosted", {}, date(2026, 1, 1), (("bad account", 1), ("a:b", -1))), "not an account"),
        (NewEvent("PaymentPosted", {}, date(2026, 1, 1), (("a:b", 0),)), "zero cents"),
        (NewEvent("PaymentPosted", {}, date(2026, 1, 1), (("a:b", 1.0), ("a:c", -1.0))), "integer cents"),
    ],
)
def test_malformed_events_are_refused_with_the_reason(event, message):
    with pytest.raises(InvalidEvent, match=message):
        append(stream="loan:L1", expected_version=0, events=[event], acting_user=TESTS)
    assert Event.objects.count() == 0


def test_bad_stream_name_is_refused():
    with pytest.raises(InvalidEvent, match="not a stream name"):
        append(stream="no colon", expected_version=0, events=[cash_event()], acting_user=TESTS)


def test_batch_is_all_or_nothing():
    append(stream="loan:L2", expected_version=0, events=[cash_event(account="loan:L2:principal")], acting_user=TESTS)
    with pytest.raises(ConcurrencyConflict):
        append_batch(appends=[
            StreamAppend("loan:L1", 0, (cash_event(),)),
            StreamAppend("loan:L2", 0, (cash_event(account="loan:L2:principal"),)),  # stale
        ], acting_user=TESTS)
    assert not Event.objects.filter(stream="loan:L1").exists()
    assert LogPosition.objects.get(id=1).last_position == 1


def test_balances_of_an_account_a_prefix_and_as_of_a_date():
    append(stream="loan:L1", expected_version=0, events=[
        cash_event(10_000, effective_date=date(2026, 1, 5)),
        cash_event(2_500, account="loan:L1:interest", effective_date=date(2026, 2, 5)),
    ], acting_user=TESTS)
    assert account_balance("loan:L1:principal") == -10_000
    assert prefix_balance("loan:L1:") == -12_500
    assert prefix_balance("loan:L1:", as_of=date(2026, 1, 31)) == -10_000
    assert account_balance("trust:T1:custodial", as_of=date(2026, 1, 4)) == 0
    assert balances_under("loan:L1:") == {"loan:L1:interest": -2_500, "loan:L1:principal": -10_000}
    # The read model agrees with the sum of postings.
    assert AccountBalance.objects.get(account="trust:T1:custodial").balance_cents == 12_500


def test_idempotent_append_returns_the_original_and_writes_once():
    first = append(stream="loan:L1", expected_version=0, events=[cash_event(500, key="bank-ref-1")], acting_user=TESTS)
    again = append(stream="loan:L1", expected_version=0, events=[cash_event(500, key="bank-ref-1")], acting_user=TESTS)
    assert again == first
    assert Event.objects.count() == 1
    assert account_balance("loan:L1:principal") == -500


def test_same_key_with_different_content_is_an_error():
    append(stream="loan:L1", expected_version=0, events=[cash_event(500, key="bank-ref-1")], acting_user=TESTS)
    with pytest.raises(IdempotencyConflict, match="bank-ref-1.*different PaymentPosted"):
        append(stream="loan:L1", expected_version=None, events=[cash_event(501, key="bank-ref-1")], acting_user=TESTS)
    assert Event.objects.count() == 1


def test_partially_recorded_batch_is_not_replayed():
    append(stream="loan:L1", expected_version=0, events=[cash_event(500, key="k1")], acting_user=TESTS)
    with pytest.raises(IdempotencyConflict, match="replayed whole"):
        append(stream="loan:L1", expected_version=None, events=[cash_event(500, key="k1"), cash_event(1, key="k2")],
               acting_user=TESTS)


def test_acting_user_is_recorded(django_user_model):
    clerk = django_user_model.objects.create_user("clerk")
    event = transfer(stream="loan:L1", event_type="PaymentPosted", debit="trust:T1:custodial",
                     credit="loan:L1:principal", amount_cents=42, effective_date=date(2026, 1, 2), acting_user=clerk)
    assert Event.objects.get(position=event.position).acting_user == clerk
