"""Real concurrent payments to one loan on PostgreSQL: each lands once, the read model equals the ledger."""
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest
from django.db import connections

from ledger.models import Event
from ledger.selectors import account_balance
from ledger.verification import verify
from servicing.domain import accounts
from servicing.models import LoanPosition
from tests.actors import TESTS
from servicing.services.payments import payment_post
from tests.integration.servicing.tapes import SEED_ROW, board

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres_only]
THREADS, PER_THREAD = 8, 2


def test_eight_threads_posting_to_one_loan_each_land_exactly_once():
    board(SEED_ROW)
    barrier = threading.Barrier(THREADS)

    def writer(n):
        try:
            barrier.wait()
            for i in range(PER_THREAD):
                # Different amounts, so the splits depend on the order the payments land in.
                payment_post(loan_number="L001", amount_cents=50_000 + 1_000 * n + i, received_on=date(2026, 2, 1),
                             reference=f"T{n}-{i}", acting_user=TESTS)
            return PER_THREAD
        finally:
            connections.close_all()

    with ThreadPoolExecutor(THREADS) as pool:
        assert sum(pool.map(writer, range(THREADS))) == THREADS * PER_THREAD
    keys = list(Event.objects.filter(event_type="PaymentPosted").values_list("idempotency_key", flat=True))
    assert sorted(keys) == sorted(f"payment:T{n}-{i}" for n in range(THREADS) for i in range(PER_THREAD))
    position = LoanPosition.objects.get(loan_id="L001")
    assert position.stream_version == 1 + THREADS * PER_THREAD
    assert position.principal_balance_cents == account_balance(accounts.principal("L001"))
    total = sum(50_000 + 1_000 * n + i for n in range(THREADS) for i in range(PER_THREAD))
    assert account_balance(accounts.CUSTODIAL_CASH) == total
    assert position.suspense_cents == -account_balance(accounts.suspense("L001"))
    report = verify()
    assert report.ok, report.problems


def test_the_same_bank_reference_posted_by_eight_threads_at_once_lands_once():
    board(SEED_ROW)
    barrier = threading.Barrier(THREADS)

    def writer(_):
        try:
            barrier.wait()
            result = payment_post(loan_number="L001", amount_cents=84_955, received_on=date(2026, 2, 1),
                                  reference="SAME", acting_user=TESTS)
            return result.event.position
        finally:
            connections.close_all()

    with ThreadPoolExecutor(THREADS) as pool:
        positions = set(pool.map(writer, range(THREADS)))
    assert len(positions) == 1
    assert Event.objects.filter(event_type="PaymentPosted").count() == 1
    assert LoanPosition.objects.get(loan_id="L001").principal_balance_cents == 9_990_045
