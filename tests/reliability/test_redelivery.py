"""A task delivered twice has one business effect, on real `celery worker` processes and the real Redis broker.

- Redelivery after the visibility timeout: a worker takes a close and is
  SIGKILLed before acknowledging it, either before its transaction committed
  or after; the transport hands the message to the next worker once the
  visibility timeout (5 s here) has passed. The first case pays once, on the
  second delivery; the second answers "already closed" and pays nothing.
- A second beat: the month-end and the fan-out sent again for the same
  period while two workers run them at once.
- The servicer's daily money-writing tasks (autopay drafts, escrow
  disbursements, aging and late charges), each message delivered twice to two
  workers at once: the events they record, counted, are those of one run.
"""
import signal
import time
import uuid

import pytest
from celery.contrib.testing.worker import start_worker
from celery.result import AsyncResult
from django.conf import settings

from config.celery import app
from ledger.models import Event
from ledger.verification import verify
from remittance.domain.trust_calendar import Period
from remittance.models import Distribution, PeriodResult, PeriodStatus, TrustPeriod
from remittance.tasks import close_period_task, close_trusts_task, month_end_close_task
from servicing.services.escrow import escrow_item_add
from servicing.tasks.autopay import post_autopay_drafts
from servicing.tasks.delinquency import age_loans_task
from servicing.tasks.escrow import disburse_escrow_task
from tests.actors import TESTS
from tests.integration.remittance.months import pay_everyone, seed_trust
from tests.integration.servicing.tapes import SEED_ROW, board, seed_rows
from tests.integration.trusts.deals import TRUST, form, seed_deal
from tests.reliability import workers
from tests.soak import trials

pytestmark = [pytest.mark.soak, pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

FEBRUARY = Period(2026, 2)
SECOND_TRUST = "XYZ-2026-2"
AS_OF = "2026-12-01"  # every period the tests close has ended by then


@pytest.fixture(autouse=True)
def real_broker():
    assert not settings.CELERY_TASK_ALWAYS_EAGER, "these tests need the real Redis broker"
    workers.drop_leftover_messages()
    yield
    workers.drop_leftover_messages()


@pytest.fixture(scope="module")
def two_workers(django_db_setup):
    """Two worker processes running side by side, as in production (started once for the module)."""
    pair = [workers.worker(name="a"), workers.worker(name="b")]
    yield pair
    workers.idle()
    workers.stop(*pair, idle_now=True)  # nothing in hand: no need to wait for a warm shutdown


def _closed_once(code: str, period: Period, holders: int = 10) -> None:
    """The trust's period closed once: one PeriodClosed, one DistributionPaid and one Distribution per holder."""
    closes = Event.objects.filter(event_type="PeriodClosed", payload__trust=code, payload__period=str(period))
    assert closes.count() == 1, f"{code} {period}: {closes.count()} PeriodClosed"
    paid = Event.objects.filter(event_type="DistributionPaid", payload__trust=code, payload__period=str(period))
    assert paid.count() == holders, f"{code} {period}: {paid.count()} DistributionPaid"
    assert Distribution.objects.filter(security_class__trust__code=code, period=str(period)).count() == holders


# --- (a) redelivery after the visibility timeout ---------------------------------------------------------------


def test_a_close_redelivered_after_its_worker_was_killed_pays_once(figures):
    """Each month's close: delivered, killed before its commit; delivered again, killed after it; delivered a third time.

    The second delivery completes the close (the first left only the CLOSING mark); the
    third answers "already closed" and records nothing.
    """
    board(*seed_rows(10))
    seed_trust()
    rounds = trials(1, 4)
    redelivered_after = []
    for month in _months(rounds):
        pay_everyone(str(month))
        events = Event.objects.count()
        message = close_period_task.delay(TRUST, str(month), AS_OF).id
        _killed_holding_it(kill_at="close:appended")
        assert TrustPeriod.objects.get(period=str(month)).status == PeriodStatus.CLOSING
        assert Event.objects.count() == events and not PeriodResult.objects.filter(period=str(month)).exists()

        redelivered_after.append(_killed_holding_it(kill_at="close:committed"))
        assert TrustPeriod.objects.get(period=str(month)).status == PeriodStatus.CLOSED
        _closed_once(TRUST, month)
        committed = Event.objects.count()

        answer, waited = _redelivered_in_process(message)
        redelivered_after.append(waited)
        assert answer["status"] == "already closed", answer
        assert Event.objects.count() == committed, "the redelivery of a committed close recorded something"
        _closed_once(TRUST, month)
        # Three deliveries reached period_close; two started a close (a closed period is refused first).
        assert TrustPeriod.objects.get(period=str(month)).attempts == 2
    report = verify()
    assert report.ok, report.problems
    figures.record("redelivery after the visibility timeout: killed before commit, killed after, delivered again",
                   trials=rounds, deliveries=3 * rounds, periods_closed_once=PeriodResult.objects.count(),
                   distributions=Distribution.objects.count(), visibility_timeout_s=workers.VISIBILITY_TIMEOUT,
                   longest_redelivery_s=max(redelivered_after))


def _months(count: int) -> list[Period]:
    months = [FEBRUARY]
    while len(months) < count:
        months.append(months[-1].next())
    return months


def _killed_holding_it(*, kill_at: str) -> float:
    """A worker takes the close and SIGKILLs itself at `kill_at`, leaving the message unacknowledged.

    For a redelivery, the transport hands it the message once the visibility timeout has
    passed; answers how long after the previous worker's death it died with the message.
    """
    died = time.monotonic()
    killed = workers.worker(kill_at=kill_at, name="killed")
    try:
        assert killed.wait(timeout=120) == -signal.SIGKILL
    finally:
        workers.stop(killed)
    assert workers.broker_counts() == (0, 1), "the killed worker's message should wait, unacknowledged"
    return round(time.monotonic() - died, 1)


def _redelivered_in_process(message: str) -> tuple[dict, float]:
    """A worker in this process with the same short visibility timeout takes the message once more."""
    died = time.monotonic()
    options = app.conf.broker_transport_options
    app.conf.broker_transport_options = {**options, **workers.FAST_RESTORE}
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=60):
            answer = AsyncResult(message, app=app).get(timeout=120)
            waited = round(time.monotonic() - died, 1)
            workers.idle()
    finally:
        app.conf.broker_transport_options = options
    return answer, waited


# --- (b) a second beat ----------------------------------------------------------------------------------------


def test_a_second_beat_of_the_month_end_and_the_fan_out_closes_each_trust_once(two_workers, figures):
    board(*seed_rows(20))
    seed_trust()
    form(seed_deal(code=SECOND_TRUST, name="Second trust", first_payment_date="2026-03-25", loans=[f"L{i:03d}" for i in range(11, 21)],
                   holders=[{"code": f"H2-{i:02d}", "name": f"Holder {i}", "class": "A", "face": "100000.00"}
                            for i in range(1, 11)]))
    beats, rounds = trials(2, 4), trials(1, 3)
    started = time.monotonic()
    for month in _months(rounds):
        pay_everyone(str(month), loans=[f"L{i:03d}" for i in range(1, 21)])
        as_of = month.next().first_day.replace(day=2).isoformat()
        # Each beat its own message (a second scheduler, a beat re-sent); the two workers take them at once.
        for _ in range(beats):
            month_end_close_task.delay(str(month), as_of)
            close_trusts_task.delay(str(month), as_of)
        workers.idle()
        for code in (TRUST, SECOND_TRUST):
            _closed_once(code, month)
    assert PeriodResult.objects.count() == 2 * rounds
    report = verify()
    assert report.ok, report.problems
    figures.record("a second beat: month-end and fan-out sent again, two workers", trials=rounds,
                   beats_of_each=beats, trusts=2, periods_closed_once=PeriodResult.objects.count(),
                   close_periods_started=sum(TrustPeriod.objects.values_list("attempts", flat=True)),
                   seconds=round(time.monotonic() - started, 1))


# --- (c) the servicer's daily money-writing tasks -----------------------------------------------------------


def _daily_effects() -> dict[str, int]:
    """The events the daily tasks record, counted by what they are."""
    return {
        "autopay drafts": Event.objects.filter(idempotency_key__startswith="payment:autopay:").count(),
        "escrow disbursements": Event.objects.filter(event_type="EscrowDisbursed").count(),
        "bucket changes": Event.objects.filter(event_type="DelinquencyChanged").count(),
        "late charges": Event.objects.filter(event_type="LateChargeAssessed").count(),
    }


def _delivered_twice(task, as_of: str) -> None:
    """The same message twice (as a redelivery hands it out), to the two workers at once."""
    message = str(uuid.uuid4())
    task.apply_async(kwargs={"as_of": as_of}, task_id=message)
    task.apply_async(kwargs={"as_of": as_of}, task_id=message)


def test_the_daily_tasks_delivered_twice_record_one_effect(two_workers, figures):
    board({**SEED_ROW, "loan_number": "A1", "autopay": "true"}, {**SEED_ROW, "loan_number": "A2", "autopay": "true"},
          {**SEED_ROW, "loan_number": "M1", "autopay": "false"})
    rounds = trials(1, 3)
    months = _months(rounds)
    escrow_item_add(loan_number="A1", kind="property_tax", payee="County", annual_amount_cents=120_000,
                    due_dates=[m.next().first_day for m in months], acting_user=TESTS)
    # One run of each, per month: A1 and A2 drafted on the 1st; on the next 1st A1's tax bill paid,
    # and M1 (never paying) one bucket further behind with one more late charge.
    one_run = {"autopay drafts": 2, "escrow disbursements": 1, "bucket changes": 1, "late charges": 1}
    deliveries = 0
    for month in months:
        before = _daily_effects()
        next_first = month.next().first_day.isoformat()
        for task, as_of in ((post_autopay_drafts, month.first_day.isoformat()),
                            (disburse_escrow_task, next_first), (age_loans_task, next_first)):
            _delivered_twice(task, as_of)
            workers.idle()
            deliveries += 2
        after = _daily_effects()
        assert {k: after[k] - before[k] for k in after} == one_run, month
    report = verify()
    assert report.ok, report.problems
    figures.record("daily servicing tasks delivered twice, two workers", trials=rounds, deliveries=deliveries,
                   tasks="post_autopay_drafts, disburse_escrow, age_loans", **_daily_effects())

