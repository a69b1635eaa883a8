"""The API's housekeeping task: forget idempotency answers once no client would retry them."""
from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from api.models import IdempotencyRecord


def idempotency_records_purge(*, older_than_days: int | None = None) -> int:
    """Delete answers remembered longer ago than the retention; returns how many went.

    Only finished answers go: a claim still in progress belongs to a running request.
    The business effect is in the log either way; after this a reused key runs anew.
    """
    days = settings.API_IDEMPOTENCY_KEEP_DAYS if older_than_days is None else older_than_days
    cutoff = timezone.now() - timedelta(days=days)
    deleted, _ = IdempotencyRecord.objects.filter(
        state=IdempotencyRecord.State.DONE, completed_at__lt=cutoff).delete()
    return deleted


@shared_task(name="api.purge_idempotency_records")
def purge_idempotency_records_task() -> int:
    return idempotency_records_purge()
