"""A hot account's balance in slots: concurrent writers do not queue on one row, readers see one sum.

The custodial cash account is posted to by every payment. Its balance is kept
in one row per writer's session slot (AccountBalanceSlot) and read summed
(AccountBalance, a view). Shown on the projection itself, in two real
PostgreSQL transactions: the second commits while the first is still open.
An ordinary account is still one row, so a second writer to it waits for the
first (lock_timeout turns that wait into an error, so the test cannot hang).
Whether the log's position lock still orders whole appends is the append's
business (test_concurrency.py), not the read model's.
"""
import threading
from datetime import UTC, date, datetime

import psycopg
import pytest
from django.core.management import call_command
from django.db import OperationalError, connection, connections, transaction

from ledger.domain.records import PostingLine, RecordedEvent
from ledger.models import AccountBalance, AccountBalanceSlot
from ledger.projections import HOT_SLOTS, differences, registry, writer_slot
from ledger.services import append
from tests.actors import TESTS
from tests.integration.ledger.helpers import cash_event

CUSTODIAL = "servicer:custodial:cash"  # registered hot by servicing at start-up


def _record(position: int, loan: str, cents: int) -> RecordedEvent:
    return RecordedEvent(
        position=position, stream=f"loan:{loan}", version=1, event_type="PaymentPosted", payload={},
        effective_date=date(2026, 1, 31), recorded_at=datetime(2026, 1, 31, tzinfo=UTC), acting_user_id=None,
        idempotency_key=None, previous_hash="0" * 64, hash="1" * 64,
        postings=(PostingLine(CUSTODIAL, cents), PostingLine(f"loan:{loan}:principal", -cents)))


def _apply(record: RecordedEvent) -> None:
    registry.get("ledger.account_balances").apply([record])


def _second_writer(record: RecordedEvent, *, avoid_slot: int) -> str:
    """In a session of its own (on a slot other than `avoid_slot`), apply and commit; what happened."""
    outcome: list[str] = []

    def run():
        try:
            for _ in range(100):  # a new session, a new backend pid: until it lands on another slot
                connection.ensure_connection()
                if writer_slot() != avoid_slot:
                    break
                connection.close()
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL lock_timeout = '2s'")
                _apply(record)
            outcome.append("committed")
        except (OperationalError, psycopg.errors.LockNotAvailable) as waited:  # bulk writes bind through psycopg
            outcome.append(f"blocked: {waited}")
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return outcome[0]


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_transactions_posting_to_the_custodial_account_do_not_wait_for_each_other():
    with transaction.atomic():
        _apply(_record(1, "L1", 100))
        mine = writer_slot()
        assert _second_writer(_record(2, "L2", 200), avoid_slot=mine) == "committed"
        # The second is committed and visible while the first is still open.
        assert AccountBalanceSlot.objects.filter(account=CUSTODIAL).count() == 2
    assert AccountBalance.objects.get(account=CUSTODIAL).balance_cents == 300
    assert AccountBalance.objects.get(account=CUSTODIAL).posting_count == 2
    assert AccountBalance.objects.get(account=CUSTODIAL).last_position == 2
    assert AccountBalance.objects.filter(account=CUSTODIAL).count() == 1  # one account, whatever its slots


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_an_ordinary_account_is_one_row_and_a_second_writer_waits_for_it():
    with transaction.atomic():
        _apply(_record(1, "L1", 100))
        outcome = _second_writer(_record(2, "L1", 200), avoid_slot=writer_slot())
        assert outcome.startswith("blocked")  # loan:L1:principal is one row: the first holds it
    assert AccountBalance.objects.get(account="loan:L1:principal").balance_cents == -100


@pytest.mark.django_db(transaction=True)
def test_slots_are_summed_and_a_replay_reproduces_every_accounts_balance():
    custodial_cash = (PostingLine(CUSTODIAL, 500), PostingLine("loan:L1:principal", -500))
    event = cash_event(500)
    append(stream="loan:L1", expected_version=0, acting_user=TESTS,
           events=[type(event)(event.event_type, event.payload, event.effective_date, custodial_cash)])
    # A second session's slot, as another worker would have left it (written past the projection).
    other = (writer_slot() + 1) % HOT_SLOTS
    AccountBalanceSlot.objects.filter(account=CUSTODIAL).update(slot=other)
    append(stream="loan:L1", expected_version=1, acting_user=TESTS,
           events=[type(event)(event.event_type, event.payload, event.effective_date, custodial_cash)])
    assert AccountBalanceSlot.objects.filter(account=CUSTODIAL).count() == 2
    before = sorted(AccountBalance.objects.values_list("account", "balance_cents", "posting_count", "last_position"))
    assert (CUSTODIAL, 1000, 2, 2) in before
    assert differences() == []  # compared account by account, not slot by slot
    call_command("rebuild_projections")
    after = sorted(AccountBalance.objects.values_list("account", "balance_cents", "posting_count", "last_position"))
    assert after == before
