"""The webhooks' Celery task: one attempt at one delivery (webhooks.services.delivery_attempt).

Thin: the service makes the POST, records it and enqueues the next attempt
with its backoff. A message delivered twice (a redelivery after a worker
died) finds its attempt recorded and does nothing more; the receiver may
still see a POST twice in that case, and de-duplicates by X-MBS-Delivery.
"""
from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError

from webhooks.services import delivery_attempt


@shared_task(name="webhooks.deliver", autoretry_for=(OperationalError, InterfaceError), retry_backoff=2,
             retry_backoff_max=60, max_retries=10)
def deliver_webhook_task(delivery_id: int, series: int, number: int) -> str:
    """Attempt `number` of series `series` of the delivery; "delivered", "retrying", "failed" or "skipped"."""
    return delivery_attempt(delivery_id=delivery_id, series=series, number=number)
