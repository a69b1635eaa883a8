"""Four-eyes for a payment reversal: asked by one, recorded when another approves, both names on the event."""
from datetime import date

import pytest

from approvals.errors import ActFailed, DuplicateRequest, RequestRefused
from approvals.models import ApprovalRequest, Kind, State
from approvals.services import request_approve, reversal_request
from approvals.subjects import payments_standing
from ledger.models import Event
from ledger.verification import verify
from remittance.domain.trust_calendar import Period
from servicing.models import LoanPosition
from servicing.services.payment_requests import PaymentRefused
from servicing.services.payment_returns import payment_return
from tests.actors import TESTS
from tests.integration.remittance.months import pay

pytestmark = pytest.mark.django_db
REFERENCE = "T-2026-02-L001"


def position(loan="L001") -> dict:
    p = LoanPosition.objects.get(loan_id=loan)
    return {"principal": p.principal_balance_cents, "next_due": p.next_due_date, "escrow": p.escrow_balance_cents,
            "suspense": p.suspense_cents, "last_payment": p.last_payment_date}


@pytest.fixture
def paid(loans):
    """L001's February installment posted; answers the position before it."""
    before = position()
    pay("L001", Period.parse("2026-02"))
    return before


def ask(user, reference=REFERENCE, loan="L001", returned_on=date(2026, 2, 5), reason="NSF"):
    return reversal_request(loan_number=loan, reference=reference, returned_on=returned_on, reason=reason,
                            requested_by=user)


def test_a_reversal_asked_by_one_is_recorded_when_another_approves(paid, clara, chen):
    request = ask(clara, reason="  NSF: insufficient funds ")
    assert request.kind == Kind.PAYMENT_REVERSAL and request.state == State.PENDING
    assert request.reason == "NSF: insufficient funds"
    assert not Event.objects.filter(event_type="PaymentReturned").exists()  # asking records nothing

    done = request_approve(request_id=request.pk, approver=chen)
    assert done.state == State.DONE and done.decided_by == chen
    returned = Event.objects.get(event_type="PaymentReturned")
    assert done.outcome == f"returned 849.55 received on 2026-02-01 (PaymentReturned, event {returned.position})"
    assert returned.payload["requested_by"] == "clara" and returned.payload["approved_by"] == "chen"
    assert returned.payload["reason"] == "NSF: insufficient funds" and returned.acting_user == chen
    assert position() == paid  # the loan stands as before the payment
    assert payments_standing("L001") == []
    report = verify()
    assert report.ok, report.problems


def test_a_return_by_one_person_alone_is_refused(paid, clara):
    events = Event.objects.count()
    with pytest.raises(PaymentRefused, match=f"loan L001: the return of payment {REFERENCE} was asked for by "
                                             "clara without an approval"):
        payment_return(loan_number="L001", reference=REFERENCE, returned_on=date(2026, 2, 5), reason="NSF",
                       acting_user=clara)
    assert Event.objects.count() == events and position() != paid  # the payment stands


def test_a_reversal_of_an_unknown_payment_is_not_requested(paid, clara):
    with pytest.raises(RequestRefused, match="loan L001: no payment with reference NOPE was posted to it"):
        ask(clara, reference="NOPE")
    with pytest.raises(RequestRefused, match="loan L999 is not boarded"):
        ask(clara, loan="L999")
    with pytest.raises(RequestRefused, match=f"no payment with reference {REFERENCE}"):
        ask(clara, loan="L002")  # posted, but to another loan
    with pytest.raises(RequestRefused, match="give the bank's reason"):
        ask(clara, reason=" ")
    with pytest.raises(RequestRefused, match="after the return date 2026-01-31"):
        ask(clara, returned_on=date(2026, 1, 31))
    with pytest.raises(RequestRefused, match="is in the future"):
        ask(clara, returned_on=date(2099, 1, 1))
    assert not ApprovalRequest.objects.exists()


def test_a_payment_already_returned_is_not_requested_again(paid, clara, chen, jo):
    request = ask(clara)
    with pytest.raises(DuplicateRequest, match=f"loan L001 payment {REFERENCE} already has a pending request"):
        ask(jo)
    request_approve(request_id=request.pk, approver=chen)
    with pytest.raises(RequestRefused, match=f"payment {REFERENCE} was already returned on 2026-02-05"):
        ask(jo)


def test_a_return_the_servicing_refuses_at_approval_leaves_the_request_pending(paid, clara, chen):
    request = ask(clara)
    # Meanwhile someone recorded the return directly: the approval must not record it twice.
    payment_return(loan_number="L001", reference=REFERENCE, returned_on=date(2026, 2, 5), reason="NSF",
                   acting_user=TESTS)
    events = Event.objects.count()
    with pytest.raises(ActFailed, match=f"request #{request.pk} was not approved: the return was refused "
                                        r"\(loan L001: payment .* was already returned .*\); nothing was recorded"):
        request_approve(request_id=request.pk, approver=chen)
    assert Event.objects.count() == events
    still = ApprovalRequest.objects.get(pk=request.pk)
    assert still.state == State.PENDING and still.decided_by is None and still.outcome == ""


def test_the_payments_a_reversal_may_name(loans):
    pay("L001", Period.parse("2026-02"))
    pay("L001", Period.parse("2026-03"))
    payment_return(loan_number="L001", reference="T-2026-03-L001", returned_on=date(2026, 3, 5), reason="NSF",
                   acting_user=TESTS)
    [standing] = payments_standing("L001")
    assert (standing.reference, standing.received_on, standing.amount_cents) == (REFERENCE, "2026-02-01", 84_955)
    assert payments_standing("L002") == [] and payments_standing("NOPE") == []
