"""Fixtures for the webhooks tests: a receiver on loopback, quick retries, the API's logins, a closed month.

The seed's trust XYZ-2026-1 (INV-01 to INV-10 hold class A) with February
2026 paid by every borrower; `close_february` closes it with the on-commit
callbacks run (the tests run inside a transaction that never commits) and
Celery eager, so every attempt is made in the test's thread.
"""
import pytest

from config.celery import app
from tests.integration.remittance.months import close, pay_everyone, seed_trust
from tests.integration.trusts.conftest import loans  # noqa: F401
from tests.integration.webhooks.receiver import Receiver

MAX_ATTEMPTS = 3


@pytest.fixture(autouse=True)
def _quick_webhooks(settings):
    settings.WEBHOOKS_ALLOW_LOOPBACK_HTTP = True
    settings.WEBHOOKS_MAX_ATTEMPTS = MAX_ATTEMPTS
    settings.WEBHOOKS_BACKOFF_SECONDS = 0.01
    settings.WEBHOOKS_BACKOFF_MAX_SECONDS = 0.05
    settings.WEBHOOKS_TIMEOUT_SECONDS = 3


@pytest.fixture
def eager():
    """Celery runs each task in the caller's thread (a retry's countdown is not waited)."""
    was = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = was


@pytest.fixture
def receiver():
    server = Receiver().start()
    yield server
    server.stop()


@pytest.fixture
def february(loans):  # noqa: F811
    """The seed's trust formed and February paid by every borrower; not closed."""
    seed_trust()
    pay_everyone("2026-02")


@pytest.fixture
def close_february(february, eager, django_capture_on_commit_callbacks):
    def run():
        with django_capture_on_commit_callbacks(execute=True):
            return close("2026-02")
    return run
