"""Two payment imports at once: a file is worked out without the log's lock, which it takes only to publish.

An import works its whole file out in memory and publishes it in one short
step at the end (servicing.services.payment_files). While one import is paused
between its chunks (`import:chunk`), the log's position lock is free and a
second import posts and commits; paused once its events are appended
(`import:appended`), it holds the lock until it commits. A second import that
paid one of the first one's loans meanwhile makes the first one's publish
find a stream moved on: it posts row by row, and every payment of both files
is recorded once, on the positions each one left.
"""
from __future__ import annotations

import threading

import psycopg
import pytest
from django.db import connection, connections
from psycopg.errors import LockNotAvailable

from ledger import hooks
from ledger.models import Event
from ledger.verification import verify
from servicing.models import LoanPosition
from servicing.services import payment_files
from servicing.services.payment_files import payment_file_import
from tests.actors import TESTS
from tests.integration.servicing.tapes import board, seed_rows

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres_only]


def payment_file(*rows) -> bytes:
    lines = ["loan_number,received_on,amount,reference"] + [",".join(row) for row in rows]
    return ("\n".join(lines) + "\n").encode()


FIRST = payment_file(("L001", "2026-02-01", "849.55", "A-1"), ("L002", "2026-02-01", "849.55", "A-2"),
                     ("L001", "2026-02-02", "100.00", "A-3"))  # L001 twice: two chunks
SECOND = payment_file(("L003", "2026-02-01", "849.55", "B-1"), ("L004", "2026-02-01", "400.00", "B-2"))
SECOND_ON_L002 = payment_file(("L002", "2026-02-01", "400.00", "B-3"))


def log_lock_free() -> bool:
    """Whether another connection can take the log's position lock right now (it never waits)."""
    settings = connection.settings_dict
    with psycopg.connect(dbname=settings["NAME"], user=settings["USER"], password=settings["PASSWORD"] or None,
                         host=settings["HOST"] or None, port=settings["PORT"] or None) as other:
        try:
            other.execute("SELECT 1 FROM ledger_logposition WHERE id = 1 FOR UPDATE NOWAIT")
        except LockNotAvailable:
            return False
        other.rollback()
        return True


def in_another_thread(action):
    """Run `action` in a thread of its own (its own connection) to its end; its error is raised here."""
    failures: list[BaseException] = []

    def run():
        try:
            action()
        except BaseException as error:  # noqa: BLE001 - handed to the test
            failures.append(error)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if failures:
        raise failures[0]


@pytest.fixture
def at_points():
    """Install a hook that runs what the test asks at a named point of the test's own thread, once."""
    plan: dict[str, list] = {}
    seen: list[str] = []
    own = threading.get_ident()

    def hook(point: str) -> None:
        if threading.get_ident() != own:
            return  # the other import's points: it runs to its end
        seen.append(point)
        for action in plan.pop(point, []):
            action()

    hooks.install(hook)
    yield plan, seen
    hooks.uninstall(hook)


def test_a_second_import_commits_while_the_first_works_its_file_out(at_points):
    plan, seen = at_points
    board(*seed_rows(4))
    observed = {}
    plan["import:chunk"] = [
        lambda: observed.setdefault("lock free while working out", log_lock_free()),
        lambda: in_another_thread(lambda: payment_file_import(raw=SECOND, acting_user=TESTS)),
    ]
    plan["import:appended"] = [lambda: observed.setdefault("lock free once appended", log_lock_free())]
    result = payment_file_import(raw=FIRST, acting_user=TESTS)
    assert observed == {"lock free while working out": True, "lock free once appended": False}
    assert seen == ["import:chunk", "import:chunk", "import:appended"]  # two chunks, one publish
    assert [r.reference for r in result.posted] == ["A-1", "A-2", "A-3"]
    # The second file committed first: its events come first in the log, positions without a gap.
    references = list(Event.objects.exclude(event_type="LoanBoarded").order_by("position")
                      .values_list("payload__reference", flat=True))
    assert references == ["B-1", "B-2", "A-1", "A-3", "A-2"]  # the first file: each loan's events together
    positions = list(Event.objects.order_by("position").values_list("position", flat=True))
    assert positions == list(range(1, len(positions) + 1))
    assert verify().ok


def test_a_loan_the_second_import_paid_meanwhile_makes_the_first_post_row_by_row(at_points, monkeypatch):
    plan, _ = at_points
    board(*seed_rows(4))
    row_by_row, fell_back = payment_files._post_rows, []
    monkeypatch.setattr(payment_files, "_post_rows", lambda *a: fell_back.append(1) or row_by_row(*a))
    plan["import:chunk"] = [lambda: in_another_thread(lambda: payment_file_import(raw=SECOND_ON_L002,
                                                                                  acting_user=TESTS))]
    result = payment_file_import(raw=FIRST, acting_user=TESTS)
    assert fell_back == [1]
    assert [r.reference for r in result.posted] == ["A-1", "A-2", "A-3"]
    l002 = LoanPosition.objects.get(loan_id="L002")
    # 400.00 waited in suspense, then with 849.55 paid February's installment and curtailed 400.00:
    # both files' money, once each.
    assert (l002.principal_balance_cents, l002.suspense_cents, l002.stream_version) == (
        10_000_000 - 9_955 - 40_000, 0, 3)
    assert Event.objects.exclude(event_type="LoanBoarded").count() == 4
    assert verify().ok
