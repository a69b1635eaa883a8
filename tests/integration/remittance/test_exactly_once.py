"""Exactly once, on the real PostgreSQL and Redis: concurrent closes, the queue, a killed worker."""
import os
import signal
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.db import connection, connections

from config.celery import app
from ledger.models import Event
from ledger.verification import verify
from remittance.errors import CloseRefused
from remittance.models import Distribution, PeriodResult, PeriodStatus, TrustPeriod
from remittance.tasks import close_period_task, month_end_close_task
from tests.faults import KILL_VARIABLE, launcher, without_faults
from tests.integration.remittance.months import close, pay_everyone, seed_trust

ROOT = Path(__file__).resolve().parents[3]
pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def _paid_once():
    """Every holder paid exactly once for February: 499.55 each, one DistributionPaid per holder."""
    assert Event.objects.filter(event_type="PeriodClosed").count() == 1
    assert Event.objects.filter(event_type="DistributionPaid").count() == 10
    assert sorted(Distribution.objects.values_list("holder__code", flat=True)) == [f"INV-{i:02d}" for i in range(1, 11)]
    assert {d.total_cents for d in Distribution.objects.all()} == {49_955}
    report = verify()
    assert report.ok, report.problems


def test_twenty_concurrent_closes_make_one_set_of_distributions(loans):
    seed_trust()
    pay_everyone("2026-02")
    barrier = threading.Barrier(20)

    def contender(_):
        try:
            barrier.wait()
            close("2026-02")
            return "closed"
        except CloseRefused as refused:
            return str(refused)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(contender, range(20)))
    assert answers.count("closed") == 1
    others = {a for a in answers if a != "closed"}
    assert others <= {"XYZ-2026-1 2026-02 is already closed",
                      "XYZ-2026-1 2026-02 is being closed right now; ask again for its result"}, others
    _paid_once()


def test_the_month_end_close_through_the_queue(loans):
    assert not settings.CELERY_TASK_ALWAYS_EAGER, "make test runs against the real Redis broker"
    seed_trust()
    pay_everyone("2026-02")
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        month_end_close_task.delay("2026-02", "2026-03-02")
        _wait_for(lambda: PeriodResult.objects.filter(period="2026-02").exists())
        # A duplicate delivery (a second beat, a redelivery) has no second effect.
        again = close_period_task.delay("XYZ-2026-1", "2026-02", "2026-03-02").get(timeout=60)
    assert again["status"] == "already closed"
    _paid_once()


def test_a_worker_killed_mid_close_leaves_nothing_and_the_close_run_again_pays_once(loans):
    seed_trust()
    pay_everyone("2026-02")
    events = Event.objects.count()
    killed = _worker_process(kill_at="close:appended")
    try:
        close_period_task.delay("XYZ-2026-1", "2026-02", "2026-03-02")
        assert killed.wait(timeout=120) == -signal.SIGKILL
    finally:
        _stop(killed)
    # The kill came after every event was appended, before the commit: nothing of it is left.
    assert Event.objects.count() == events
    assert TrustPeriod.objects.get(period="2026-02").status == PeriodStatus.CLOSING
    assert not Distribution.objects.exists()
    # Running it again (here in this process) completes it; a third time pays nothing more.
    assert close("2026-02").result.paid_to_holders_cents == 10 * 49_955
    with pytest.raises(CloseRefused, match="already closed"):
        close("2026-02")
    _paid_once()


def _wait_for(condition, timeout=90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError("timed out waiting for the worker")


def _worker_process(*, kill_at: str) -> subprocess.Popen:
    """A real `celery worker` process on the test database, set (through the fault launcher) to SIGKILL itself
    at the point `kill_at`."""
    db = connection.settings_dict
    env = {**without_faults(os.environ), KILL_VARIABLE: kill_at,
           "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
           "CELERY_BROKER_URL": settings.CELERY_BROKER_URL}
    return subprocess.Popen(
        [*launcher("-m", "celery"), "-A", "config", "worker", "--pool=solo", "--concurrency=1",
         "--without-gossip", "--without-mingle", "--without-heartbeat", "-Q", "celery", "--loglevel=WARNING"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.kill()
        process.wait(timeout=30)
    # The killed worker's message waits, unacknowledged, for the visibility timeout to be redelivered;
    # drop it so it cannot land in a later test's database.
    with app.connection_for_write() as conn:
        client = conn.default_channel.client
        client.delete("unacked", "unacked_index")
    app.control.purge()
