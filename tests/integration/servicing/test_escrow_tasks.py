"""The daily escrow and aging tasks through a real Celery worker on Redis, and their schedules."""
import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django_celery_beat.models import PeriodicTask

from config.celery import app
from ledger.models import Event
from servicing.models import LoanPosition
from servicing.services.escrow import escrow_item_add
from servicing.tasks.delinquency import age_loans_task
from servicing.tasks.escrow import disburse_escrow_task
from tests.actors import TESTS
from tests.integration.servicing.tapes import board


@pytest.mark.django_db
def test_the_daily_tasks_are_scheduled_under_the_names_implemented():
    scheduled = set(PeriodicTask.objects.values_list("task", flat=True))
    assert {"servicing.disburse_escrow", "servicing.age_loans"} <= scheduled
    assert {"servicing.disburse_escrow", "servicing.age_loans"} <= set(app.tasks)


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_escrow_and_aging_tasks_run_on_a_real_worker_once_each():
    assert not settings.CELERY_TASK_ALWAYS_EAGER, "make test runs against the real Redis broker"
    board()
    escrow_item_add(loan_number="L001", kind="property_tax", payee="County", annual_amount_cents=240_000,
                    due_dates=["2026-03-01", "2026-09-01"], acting_user=TESTS)
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        paid = disburse_escrow_task.delay(as_of="2026-03-01").get(timeout=60)
        again = disburse_escrow_task.delay(as_of="2026-03-01").get(timeout=60)
        aged = age_loans_task.delay(as_of="2026-03-01").get(timeout=60)
    assert (paid["disbursed"], paid["advanced_cents"], again["disbursed"]) == (1, 120_000, 0)
    assert aged["bucket_changes"] == {"L001": "30"} and aged["late_charges"] == 1
    assert Event.objects.filter(event_type="EscrowDisbursed").count() == 1
    assert LoanPosition.objects.get(loan_id="L001").escrow_advance_cents == 120_000
