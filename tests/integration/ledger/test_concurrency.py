"""Real concurrent writers on PostgreSQL: one wins a version, chains stay whole."""
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections

from ledger.errors import ConcurrencyConflict
from ledger.models import Event
from ledger.services import append
from ledger.verification import verify
from tests.actors import TESTS
from tests.integration.ledger.helpers import cash_event

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres_only]


def _in_own_connection(fn):
    def run(*args):
        try:
            return fn(*args)
        finally:
            connections.close_all()

    return run


def test_two_appends_at_the_same_expected_version_exactly_one_wins():
    append(stream="loan:L1", expected_version=0, events=[cash_event()], acting_user=TESTS)
    barrier = threading.Barrier(2)

    @_in_own_connection
    def contender(amount):
        barrier.wait()
        try:
            append(stream="loan:L1", expected_version=1, events=[cash_event(amount)], acting_user=TESTS)
            return "won"
        except ConcurrencyConflict:
            return "conflict"

    with ThreadPoolExecutor(2) as pool:
        outcomes = sorted(pool.map(contender, [111, 222]))
    assert outcomes == ["conflict", "won"]
    assert list(Event.objects.filter(stream="loan:L1").values_list("version", flat=True)) == [1, 2]


def test_many_threads_appending_to_one_stream_leave_gapless_versions_and_a_valid_chain():
    threads, per_thread = 8, 10

    @_in_own_connection
    def writer(n):
        done = 0
        while done < per_thread:
            append(stream="loan:L1", expected_version=None, events=[cash_event(n * 1000 + done + 1)], acting_user=TESTS)
            done += 1
        return done

    with ThreadPoolExecutor(threads) as pool:
        assert sum(pool.map(writer, range(threads))) == threads * per_thread
    versions = list(Event.objects.filter(stream="loan:L1").order_by("version").values_list("version", flat=True))
    assert versions == list(range(1, threads * per_thread + 1))
    positions = list(Event.objects.order_by("position").values_list("position", flat=True))
    assert positions == list(range(1, threads * per_thread + 1))
    report = verify()
    assert report.ok, report.problems


def test_optimistic_writers_retrying_on_conflict_all_land_once():
    threads, per_thread = 6, 5

    @_in_own_connection
    def writer(n):
        for i in range(per_thread):
            while True:
                version = Event.objects.filter(stream="loan:L9").count()
                try:
                    append(stream="loan:L9", expected_version=version,
                           events=[cash_event(1, account="loan:L9:principal", key=f"w{n}-{i}")], acting_user=TESTS)
                    break
                except ConcurrencyConflict:
                    continue

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(writer, range(threads)))
    assert Event.objects.filter(stream="loan:L9").count() == threads * per_thread
    assert connection.vendor == "postgresql"
