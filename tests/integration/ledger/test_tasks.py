"""The nightly verification through a real Celery worker on Redis."""
import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django_celery_beat.models import PeriodicTask

from config.celery import app
from ledger.services import append
from ledger.tasks import verify_ledger_task
from tests.actors import TESTS
from tests.integration.ledger.helpers import cash_event


@pytest.mark.django_db
def test_nightly_verification_is_scheduled_in_the_database():
    task = PeriodicTask.objects.get(name="Nightly ledger verification")
    assert task.task == "ledger.verify_ledger" and task.enabled
    assert (task.crontab.hour, task.crontab.minute) == ("2", "30")


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_verification_runs_on_a_real_worker():
    assert not settings.CELERY_TASK_ALWAYS_EAGER, "make test runs against the real Redis broker"
    append(stream="loan:L1", expected_version=0, events=[cash_event(500)], acting_user=TESTS)
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        result = verify_ledger_task.delay().get(timeout=60)
    assert result["ok"] is True and result["events"] == 1
