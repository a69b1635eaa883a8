"""The reconciler: every period due and not closed is closed, in order, once; the rest are left alone.

Four trusts, as a month-end gone wrong would leave them, each with months
due and never closed: one plain, one whose close will be killed mid-way (left
CLOSING), one whose February payment comes back in March with nothing
collected (its closes carry the return and recover it later: a return never
blocks a close, where it used to be refused), one with nothing due yet. The reconciler
runs on real Celery workers on the real Redis broker: the first, a worker
process, is SIGKILLed in its first close; its message comes back after the
visibility timeout to a second worker, which resumes that close and does the
rest. `trials(3, 8)` is the number of months overdue.
"""
import importlib
import signal
import time
from contextlib import contextmanager
from datetime import date

import pytest
from celery.contrib.testing.worker import start_worker
from celery.result import AsyncResult
from django.apps import apps as django_apps
from django.conf import settings
from django_celery_beat.models import PeriodicTask

from config.celery import app
from ledger.models import Event
from ledger.verification import verify
from remittance.domain.trust_calendar import Period
from remittance.events import PeriodClosed
from remittance.models import PeriodResult, PeriodStatus, TrustPeriod
from remittance.services.closing import close_due_on, periods_overdue
from remittance.tasks import close_due_periods_task
from tests.actors import payment_return
from tests.integration.remittance.months import close, pay, pay_everyone
from tests.integration.servicing.tapes import board, seed_rows
from tests.integration.trusts.deals import form, seed_deal
from tests.reliability import workers
from tests.soak import trials

FEBRUARY = Period(2026, 2)
# The reconciler goes through the trusts by code: the one killed mid-close is the first.
KILLED, NEVER_CLOSED, RETURNED, NOT_YET = "XYZ-2026-1", "XYZ-2026-2", "XYZ-2026-3", "XYZ-2026-4"


def _loans(trust_number: int) -> list[str]:
    return [f"L{i:03d}" for i in range(10 * trust_number - 9, 10 * trust_number + 1)]


def _trust(code: str, number: int, first_period: Period) -> None:
    """A pass-through of ten loans, ten holders of its own; its first collection period `first_period`."""
    paying = first_period.next()
    form(seed_deal(code=code, name=f"Trust {code}", loans=_loans(number),
                   first_payment_date=date(paying.year, paying.month, 25).isoformat(),
                   holders=[{"code": f"H{number}-{i:02d}", "name": f"Holder {number}-{i}", "class": "A",
                             "face": "100000.00"} for i in range(1, 11)]))


def _months(first: Period, last: Period) -> list[Period]:
    months = [first]
    while months[-1] < last:
        months.append(months[-1].next())
    return months


def _closes(code: str) -> list[tuple[str, int]]:
    """The trust's PeriodClosed events as (period, log position), in log order."""
    closes = Event.objects.filter(event_type="PeriodClosed", payload__trust=code).order_by("position")
    return [(PeriodClosed.from_payload(e.payload).period, e.position) for e in closes]


def _seed(last_due: Period, today: date) -> None:
    """The four trusts and their months up to `last_due`; the returned payment's trust's February closed."""
    board(*seed_rows(40))
    _trust(KILLED, 1, FEBRUARY.next())
    _trust(NEVER_CLOSED, 2, FEBRUARY)
    _trust(RETURNED, 3, FEBRUARY)
    _trust(NOT_YET, 4, Period.containing(today))
    for month in _months(FEBRUARY, last_due):
        pay_everyone(str(month), loans=_loans(2) + (_loans(1) if month > FEBRUARY else []))
    pay_everyone(str(FEBRUARY), loans=_loans(3))
    close(str(FEBRUARY), trust=RETURNED)
    # March: February's L021 payment comes back, nothing is collected; the net is negative.
    payment_return(loan_number="L021", reference=f"T-{FEBRUARY}-L021", returned_on=date(2026, 3, 5), reason="NSF")


def _killed_in_its_first_close(today: date) -> str:
    """The reconciler on a worker process SIGKILLed with its first close appended, uncommitted.

    Answers the message's id: unacknowledged, it waits for the visibility timeout.
    """
    killed = workers.worker(kill_at="close:appended", name="killed")
    try:
        message = close_due_periods_task.delay(today.isoformat()).id
        assert killed.wait(timeout=120) == -signal.SIGKILL
    finally:
        workers.stop(killed)
    assert workers.broker_counts() == (0, 1)
    return message


@contextmanager
def _second_worker():
    """A worker in this process, looking for messages unacknowledged past the same visibility timeout."""
    options = app.conf.broker_transport_options
    app.conf.broker_transport_options = {**options, **workers.FAST_RESTORE}
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=60):
            yield
    finally:
        app.conf.broker_transport_options = options


@pytest.fixture
def month_end_scheduled():
    """The month-end schedule its migration creates: the reconciler reads the due day from it, and a
    transactional test before this one flushed it."""
    importlib.import_module("remittance.migrations.0002_month_end_schedule").create(django_apps, None)


@pytest.mark.soak
@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_the_reconciler_closes_every_overdue_period_in_order_once(figures, month_end_scheduled):
    assert not settings.CELERY_TASK_ALWAYS_EAGER, "the reconciler runs on a real worker on the Redis broker"
    months_due = trials(3, 8)
    last_due = Period(2026, 1 + months_due)
    today = close_due_on(last_due)  # the day the last of them falls due
    _seed(last_due, today)
    events = Event.objects.count()
    message = _killed_in_its_first_close(today)
    assert TrustPeriod.objects.get(trust__code=KILLED, period="2026-03").status == PeriodStatus.CLOSING
    assert Event.objects.count() == events

    with _second_worker():
        started = time.monotonic()
        first = AsyncResult(message, app=app).get(timeout=300)  # the same run, delivered again
        seconds = round(time.monotonic() - started, 1)
        closed_events = Event.objects.count() - events
        second = close_due_periods_task.delay(today.isoformat()).get(timeout=300)
        workers.idle()

    killed_rest = [f"{KILLED} {m}" for m in _months(FEBRUARY.next().next(), last_due)]
    never_closed = [f"{NEVER_CLOSED} {m}" for m in _months(FEBRUARY, last_due)]
    carried = [f"{RETURNED} {m}" for m in _months(FEBRUARY.next(), last_due)]
    assert first["closed"] == killed_rest + never_closed + carried
    assert first["resumed"] == [f"{KILLED} 2026-03"]
    assert first["held"] == []
    # In order and once each: one PeriodClosed per period, in the log in the periods' order.
    for code, months in ((NEVER_CLOSED, _months(FEBRUARY, last_due)), (KILLED, _months(FEBRUARY.next(), last_due)),
                         (RETURNED, _months(FEBRUARY, last_due))):
        closes = _closes(code)
        assert [p for p, _ in closes] == [str(m) for m in months], code
        assert [pos for _, pos in closes] == sorted(pos for _, pos in closes)
    assert Event.objects.filter(event_type="DistributionPaid", payload__period="2026-03",
                                stream__startswith="holder:H1-").count() == 10
    assert TrustPeriod.objects.get(trust__code=KILLED, period="2026-03").attempts == 2
    # The returned payment: nothing collected since, so each close carries it to the next.
    for month in _months(FEBRUARY.next(), last_due):
        result = PeriodResult.objects.get(trust__code=RETURNED, period=str(month))
        assert result.period_closed.returns_outstanding_cents > 0 and result.paid_to_holders_cents == 0, month
    # Not due: the month after the last due one, and the trust whose first period is still running.
    assert not TrustPeriod.objects.filter(period__gt=str(last_due)).exists()
    assert not PeriodResult.objects.filter(trust__code=NOT_YET).exists()
    # The second run, on the same worker: nothing left to do.
    assert (second["closed"], second["resumed"], second["held"]) == ([], [], [])
    assert Event.objects.count() == events + closed_events, "a second run recorded something"
    report = verify()
    assert report.ok, report.problems
    figures.record("reconciler: overdue periods closed by real workers, the first killed mid-close",
                   months_due=months_due, trusts=4,
                   closed=len(first["closed"]), resumed_from_closing=len(first["resumed"]),
                   held=len(first["held"]), closed_carrying_a_return=len(carried),
                   second_run_closed=len(second["closed"]),
                   second_run_events=Event.objects.count() - events - closed_events, seconds=seconds)


@pytest.mark.django_db
def test_a_period_is_overdue_from_the_month_end_day_until_it_closes():
    # Not postgres_only: the rule itself, on either database.
    board(*seed_rows(10))
    _trust(NEVER_CLOSED, 1, FEBRUARY)
    assert periods_overdue(date(2026, 3, 1)) == []
    assert periods_overdue(date(2026, 3, 2)) == [(NEVER_CLOSED, FEBRUARY)]
    assert periods_overdue(date(2026, 5, 1)) == [(NEVER_CLOSED, FEBRUARY), (NEVER_CLOSED, Period(2026, 3))]
    pay(_loans(1)[0], FEBRUARY)
    close(str(FEBRUARY), trust=NEVER_CLOSED)
    assert periods_overdue(date(2026, 5, 2)) == [(NEVER_CLOSED, Period(2026, 3)), (NEVER_CLOSED, Period(2026, 4))]


@pytest.mark.django_db
def test_the_reconciler_is_scheduled_daily_after_the_month_end():
    task = PeriodicTask.objects.get(task="remittance.close_due_periods")
    month_end = PeriodicTask.objects.get(task="remittance.month_end_close")
    assert task.enabled and task.crontab.day_of_month == "*" and task.crontab.hour == "4"
    assert int(task.crontab.hour) > int(month_end.crontab.hour)
    assert "remittance.close_due_periods" in app.tasks
