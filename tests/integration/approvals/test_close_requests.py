"""Four-eyes for a period close: asked by one, approved by another, both names on the close's events."""
import pytest
from django.conf import settings
from django.db import IntegrityError, transaction

from approvals.errors import ActFailed, DecisionRefused, DuplicateRequest, RequestRefused, UnknownRequest
from approvals.models import ApprovalRequest, Kind, State
from approvals.selectors import live_status
from approvals.services import close_request, request_approve, request_reject
from approvals.tasks import record_close_failure
from ledger.models import Event
from ledger.verification import verify
from remittance.events import PeriodClosed
from remittance.models import PeriodStatus, TrustPeriod
from remittance.tasks import close_period_task
from tests.integration.remittance.months import close, pay_everyone, seed_trust
from tests.integration.trusts.deals import TRUST

pytestmark = pytest.mark.django_db


@pytest.fixture
def february(loans):
    """The seed's trust, every borrower paid February 2026: its first period, ready to close."""
    seed_trust()
    pay_everyone("2026-02")


def ask(user, period="2026-02"):
    return close_request(trust_code=TRUST, period=period, requested_by=user)


def approve(request, user, capture):
    with capture(execute=True):
        return request_approve(request_id=request.pk, approver=user)


def test_a_close_asked_by_one_and_approved_by_another_names_both(
        february, clara, chen, close_queue, django_capture_on_commit_callbacks):
    request = ask(clara)
    assert request.state == State.PENDING and request.kind == Kind.PERIOD_CLOSE
    assert close_queue.sent == []  # asking does nothing but ask
    approved = approve(request, chen, django_capture_on_commit_callbacks)
    assert approved.state == State.APPROVED and approved.decided_by == chen and approved.decided_at
    [(args, kwargs, options)] = close_queue.sent  # enqueued once the approval committed
    assert args == (TRUST, "2026-02") and kwargs == {"requested_by": clara.pk, "approved_by": chen.pk}
    assert live_status(approved) == "period open"

    assert close_queue.run()["status"] == "closed"
    recorded = Event.objects.get(event_type="PeriodClosed", stream=f"remittance:{TRUST}")
    closed = PeriodClosed.from_payload(recorded.payload)
    assert closed.requested_by == "clara" and closed.approved_by == "chen"
    assert recorded.acting_user == chen  # the approver's act made it happen
    assert {e.acting_user_id for e in Event.objects.filter(event_type="DistributionPaid")} == {chen.pk}
    assert TrustPeriod.objects.get(period="2026-02").requested_by == clara
    settled = ApprovalRequest.objects.get(pk=request.pk)
    assert settled.state == State.DONE and settled.outcome == "closed: 4,995.50 paid in 10 holder payment(s)"
    assert live_status(settled) == "period closed"
    report = verify()
    assert report.ok, report.problems


def test_a_close_task_naming_a_requester_without_an_approver_is_refused(february, clara):
    # Four eyes is the service's rule, not the admin's: a message naming a person alone closes nothing.
    events = Event.objects.count()
    answer = close_period_task.apply(args=(TRUST, "2026-02"), kwargs={"requested_by": clara.pk}).get()
    assert answer["status"] == "refused" and "asked for by clara without an approval" in answer["message"]
    assert Event.objects.count() == events and not TrustPeriod.objects.exists()


def test_the_scheduled_close_names_nobody(february):
    close("2026-02")
    closed = PeriodClosed.from_payload(Event.objects.get(event_type="PeriodClosed").payload)
    assert closed.requested_by is None and closed.approved_by is None


def test_nobody_approves_their_own_request(february, clara, chen, close_queue):
    request = ask(chen)  # the approver asks: the permission does not let him approve himself
    with pytest.raises(DecisionRefused, match=f"request #{request.pk} was asked for by you, chen"):
        request_approve(request_id=request.pk, approver=chen)
    with pytest.raises(DecisionRefused, match="asked for by you"):
        request_reject(request_id=request.pk, approver=chen, reason="changed my mind")
    assert ApprovalRequest.objects.get(pk=request.pk).state == State.PENDING and close_queue.sent == []


def test_a_login_without_the_permission_cannot_decide(february, clara, jo, close_queue):
    request = ask(clara)
    with pytest.raises(DecisionRefused, match="jo may not decide .* \"Can approve requests of another staff member\""):
        request_approve(request_id=request.pk, approver=jo)
    with pytest.raises(DecisionRefused, match="jo may not decide"):
        request_reject(request_id=request.pk, approver=jo, reason="no")
    assert ApprovalRequest.objects.get(pk=request.pk).state == State.PENDING and close_queue.sent == []


def test_a_superuser_holds_the_permission(february, clara, close_queue, django_capture_on_commit_callbacks):
    from django.contrib.auth.models import User

    boss = User.objects.create_superuser("boss", password="boss-password-1")
    assert approve(ask(clara), boss, django_capture_on_commit_callbacks).state == State.APPROVED


def test_a_request_is_decided_once(february, clara, chen, close_queue, django_capture_on_commit_callbacks):
    from tests.integration.approvals.conftest import APPROVE, LOOK, staff

    request = ask(clara)
    approve(request, chen, django_capture_on_commit_callbacks)
    second = staff("sam", LOOK, APPROVE)
    with pytest.raises(DecisionRefused, match=f"request #{request.pk} is no longer pending: it was approved by chen"):
        request_approve(request_id=request.pk, approver=second)
    with pytest.raises(DecisionRefused, match="no longer pending"):
        request_reject(request_id=request.pk, approver=second, reason="too late")
    assert len(close_queue.sent) == 1
    with pytest.raises(UnknownRequest, match="there is no approval request #999999"):
        request_approve(request_id=999_999, approver=chen)


def test_a_rejected_request_does_nothing_and_a_new_one_may_be_asked(february, clara, chen, close_queue):
    request = ask(clara)
    with pytest.raises(DecisionRefused, match="give the reason"):
        request_reject(request_id=request.pk, approver=chen, reason="  ")
    rejected = request_reject(request_id=request.pk, approver=chen, reason="collections file still missing")
    assert rejected.state == State.REJECTED and rejected.decided_by == chen
    assert rejected.outcome == "rejected: collections file still missing"
    assert close_queue.sent == [] and not TrustPeriod.objects.exists()
    assert ask(clara).state == State.PENDING  # the subject is free again


def test_one_pending_request_per_period(february, clara, jo):
    first = ask(clara)
    with pytest.raises(DuplicateRequest, match=f"{TRUST} 2026-02 already has a pending request #{first.pk}, "
                                               "asked by clara"):
        ask(jo)
    # The database holds the rule too, whoever writes.
    with pytest.raises(IntegrityError), transaction.atomic():
        ApprovalRequest.objects.create(kind=Kind.PERIOD_CLOSE, trust=first.trust, period="2026-02", requested_by=jo)


def test_the_database_refuses_a_self_decision_and_a_mixed_subject(february, clara):
    request = ask(clara)
    with pytest.raises(IntegrityError), transaction.atomic():
        ApprovalRequest.objects.filter(pk=request.pk).update(state=State.REJECTED, decided_by=clara,
                                                             decided_at=request.requested_at)
    with pytest.raises(IntegrityError), transaction.atomic():
        ApprovalRequest.objects.filter(pk=request.pk).update(state=State.DONE)  # decided by nobody
    with pytest.raises(IntegrityError), transaction.atomic():
        ApprovalRequest.objects.filter(pk=request.pk).update(loan_number="L001")


def test_a_close_the_service_would_refuse_is_not_requested(february, clara):
    with pytest.raises(RequestRefused, match="before 2026-02 is closed"):
        ask(clara, "2026-03")
    with pytest.raises(RequestRefused, match="first collection period is 2026-02"):
        ask(clara, "2026-01")
    with pytest.raises(RequestRefused, match="cannot close before it ends"):
        ask(clara, "2099-01")
    with pytest.raises(RequestRefused, match="2026-13"):
        ask(clara, "2026-13")
    with pytest.raises(RequestRefused, match="no trust 'NOPE'"):
        close_request(trust_code="NOPE", period="2026-02", requested_by=clara)
    close("2026-02")
    with pytest.raises(RequestRefused, match=f"{TRUST} 2026-02 is already closed"):
        ask(clara)
    assert not ApprovalRequest.objects.exists()


def test_a_period_closed_before_the_approval_is_not_approved(february, clara, chen, close_queue):
    request = ask(clara)
    close("2026-02")  # someone closed it meanwhile (the month-end schedule)
    with pytest.raises(ActFailed, match=f"request #{request.pk} was not approved: {TRUST} 2026-02 is already "
                                        "closed; reject it instead"):
        request_approve(request_id=request.pk, approver=chen)
    assert ApprovalRequest.objects.get(pk=request.pk).state == State.PENDING and close_queue.sent == []


def test_a_period_closed_before_the_task_runs_settles_the_request(
        february, clara, chen, close_queue, django_capture_on_commit_callbacks):
    request = ask(clara)
    approve(request, chen, django_capture_on_commit_callbacks)
    close("2026-02")  # closed between the approval and the worker's turn
    assert close_queue.run()["status"] == "already closed"
    settled = ApprovalRequest.objects.get(pk=request.pk)
    assert settled.state == State.DONE and "already closed (by another close)" in settled.outcome
    assert Event.objects.filter(event_type="PeriodClosed").count() == 1


def test_a_close_that_fails_marks_the_request_failed_with_the_error(
        february, clara, chen, close_queue, django_capture_on_commit_callbacks, monkeypatch):
    request = ask(clara)
    approve(request, chen, django_capture_on_commit_callbacks)
    args, kwargs, options = close_queue.sent[0]
    monkeypatch.setattr("remittance.services.closing.log_head", _broken)
    # As a worker runs it: the error does not propagate, the linked errback gets it.
    failed = close_period_task.apply(args=args, kwargs=kwargs, link_error=options["link_error"], throw=False)
    assert failed.failed()
    settled = ApprovalRequest.objects.get(pk=request.pk)
    assert settled.state == State.FAILED and settled.outcome == "close failed: RuntimeError: the disk is on fire"
    assert TrustPeriod.objects.get(period="2026-02").status == PeriodStatus.OPEN
    assert live_status(settled) == "period open; last error: RuntimeError: the disk is on fire"
    assert not Event.objects.filter(event_type="PeriodClosed").exists()
    assert options["link_error"].task == record_close_failure.name


def _broken():
    raise RuntimeError("the disk is on fire")


def test_a_close_that_could_not_be_enqueued_marks_the_request_failed(
        february, clara, chen, monkeypatch, django_capture_on_commit_callbacks):
    class DownBroker:
        def apply_async(self, *args, **kwargs):
            raise ConnectionError("redis is down")

    monkeypatch.setattr("approvals.acts.close_period_task", DownBroker())
    request = ask(clara)
    assert approve(request, chen, django_capture_on_commit_callbacks).state == State.APPROVED
    settled = ApprovalRequest.objects.get(pk=request.pk)
    assert settled.state == State.FAILED and settled.outcome == "close failed: ConnectionError: redis is down"
    assert ask(clara).state == State.PENDING  # ask again once the broker is back


@pytest.mark.skipif(not settings.CELERY_TASK_ALWAYS_EAGER, reason="the embedded default only: no broker, eager tasks")
def test_without_a_broker_the_close_runs_when_the_approval_commits(
        february, clara, chen, django_capture_on_commit_callbacks):
    request = ask(clara)
    approve(request, chen, django_capture_on_commit_callbacks)
    settled = ApprovalRequest.objects.get(pk=request.pk)
    assert settled.state == State.DONE and settled.outcome.startswith("closed: 4,995.50")
    assert PeriodClosed.from_payload(Event.objects.get(event_type="PeriodClosed").payload).approved_by == "chen"
