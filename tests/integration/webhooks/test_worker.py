"""On the real PostgreSQL and Redis: a close commits, its deliveries go through the broker to a real worker.

The close runs in the test (a real commit: transaction=True), the webhooks
listener makes the deliveries after it and enqueues them on Redis; a Celery
worker (threads of this process, as the remittance tests start it) makes the
attempts, retries after the receiver's failures with the short backoff of
the test settings, and records each.
"""
import json
import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings

from config.celery import app
from tests.integration.remittance.months import close
from tests.integration.webhooks.conftest import MAX_ATTEMPTS
from tests.integration.webhooks.test_deliveries import investor, verify
from webhooks.models import Delivery, DeliveryStatus
from webhooks.services import subscription_create

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def test_a_close_is_pushed_through_the_queue_and_retried_by_a_real_worker(february, receiver):
    assert not settings.CELERY_TASK_ALWAYS_EAGER, "make test runs against the real Redis broker"
    receiver.fail_first = MAX_ATTEMPTS - 1
    alice = investor("alice", "INV-01")
    subscription, secret = subscription_create(url=receiver.url, kinds=["distribution_paid"], holder_code="INV-01",
                                               acting_user=alice)
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        close("2026-02")
        got = receiver.wait_for(MAX_ATTEMPTS, timeout=60)
        delivery = Delivery.objects.get(subscription=subscription)
        for _ in range(200):
            delivery.refresh_from_db()
            if delivery.status != DeliveryStatus.PENDING:
                break
            time.sleep(0.05)
    assert delivery.status == DeliveryStatus.DELIVERED
    assert list(delivery.attempts.values_list("number", "status_code")) == [(1, 500), (2, 500), (3, 204)]
    assert all(verify(secret, r) for r in got)
    assert json.loads(got[-1].body)["data"]["total"] == "499.55"
