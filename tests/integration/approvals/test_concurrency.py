"""On the real PostgreSQL and Redis: two approvers at once, and an approved close through a real worker."""
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.db import connections

from approvals.errors import ApprovalRefused
from approvals.models import ApprovalRequest, State
from approvals.services import close_request, request_approve, reversal_request
from config.celery import app
from ledger.models import Event
from ledger.verification import verify
from remittance.domain.trust_calendar import Period
from tests.integration.approvals.conftest import APPROVE, LOOK, staff
from tests.integration.remittance.months import pay, pay_everyone, seed_trust
from tests.integration.trusts.deals import TRUST

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def test_two_approvers_at_once_record_one_return(loans, clara, chen):
    pay("L001", Period.parse("2026-02"))
    request = reversal_request(loan_number="L001", reference="T-2026-02-L001", returned_on=date(2026, 2, 5),
                               reason="NSF", requested_by=clara)
    approvers = [chen, staff("sam", LOOK, APPROVE)]
    barrier = threading.Barrier(2)

    def approve(user):
        try:
            barrier.wait()
            return request_approve(request_id=request.pk, approver=user).state
        except ApprovalRefused as refused:
            return str(refused)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(approve, approvers))
    assert answers.count(State.DONE) == 1, answers
    [refused] = [a for a in answers if a != State.DONE]
    assert f"request #{request.pk} is no longer pending: it was done by" in refused
    assert Event.objects.filter(event_type="PaymentReturned").count() == 1


def test_an_approved_close_runs_on_a_real_worker_and_settles_the_request(loans, clara, chen):
    assert not settings.CELERY_TASK_ALWAYS_EAGER, "make test runs against the real Redis broker"
    seed_trust()
    pay_everyone("2026-02")
    request = close_request(trust_code=TRUST, period="2026-02", requested_by=clara)
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        request_approve(request_id=request.pk, approver=chen)  # commits: the close is enqueued on Redis
        _wait_for(lambda: ApprovalRequest.objects.get(pk=request.pk).state != State.APPROVED)
    settled = ApprovalRequest.objects.get(pk=request.pk)
    assert settled.state == State.DONE, settled.outcome
    closed = Event.objects.get(event_type="PeriodClosed")
    assert (closed.payload["requested_by"], closed.payload["approved_by"]) == ("clara", "chen")
    assert closed.acting_user == chen
    report = verify()
    assert report.ok, report.problems


def test_a_close_failing_on_a_real_worker_marks_the_request_failed(loans, clara, chen, monkeypatch):
    seed_trust()
    pay_everyone("2026-02")
    request = close_request(trust_code=TRUST, period="2026-02", requested_by=clara)
    monkeypatch.setattr("remittance.services.closing.log_head", _broken)  # the worker runs in this process
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        request_approve(request_id=request.pk, approver=chen)
        _wait_for(lambda: ApprovalRequest.objects.get(pk=request.pk).state != State.APPROVED)
    settled = ApprovalRequest.objects.get(pk=request.pk)
    assert settled.state == State.FAILED and settled.outcome == "close failed: RuntimeError: the disk is on fire"
    assert not Event.objects.filter(event_type="PeriodClosed").exists()


def _broken():
    raise RuntimeError("the disk is on fire")


def _wait_for(condition, timeout=90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError("timed out")
