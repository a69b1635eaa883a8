"""Idempotency answers are kept for the retention, then purged by a scheduled task; claims in flight stay."""
from datetime import timedelta

from django.contrib.auth.models import User
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from api.models import IdempotencyRecord
from api.tasks import purge_idempotency_records_task


def record(user, key, *, state, completed_days_ago=None):
    completed = timezone.now() - timedelta(days=completed_days_ago) if completed_days_ago is not None else None
    return IdempotencyRecord.objects.create(user=user, key=key, fingerprint="f" * 64, state=state,
                                            claimed_at=timezone.now() - timedelta(days=40),
                                            completed_at=completed, status_code=201, response_body="{}")


def test_old_answers_are_purged_and_recent_ones_and_claims_in_flight_kept(db, settings):
    settings.API_IDEMPOTENCY_KEEP_DAYS = 30
    user = User.objects.create_user("clerk")
    done = IdempotencyRecord.State.DONE
    record(user, "old", state=done, completed_days_ago=31)
    record(user, "recent", state=done, completed_days_ago=29)
    record(user, "in-flight", state=IdempotencyRecord.State.IN_PROGRESS)
    assert purge_idempotency_records_task.apply().get() == 1
    assert set(IdempotencyRecord.objects.values_list("key", flat=True)) == {"recent", "in-flight"}


def test_the_purge_is_scheduled_nightly(db):
    task = PeriodicTask.objects.get(name="Purge old Idempotency-Key answers")
    assert task.task == "api.purge_idempotency_records" and task.enabled
    assert (task.crontab.hour, task.crontab.minute) == ("4", "30")
