"""Principal forgiveness is four-eyes; on a pooled loan it is the trust's realized loss, and the deal decides
what else may change before the loan is bought out."""
from datetime import date
from decimal import Decimal

import pytest
from django.test import Client

from approvals.errors import ActFailed, DecisionRefused, RequestRefused
from approvals.models import ApprovalRequest, State
from approvals.services import forgiveness_request, request_approve
from ledger.business_time import business_day
from ledger.models import Event
from ledger.verification import verify
from remittance.models import PeriodResult
from servicing.models import LoanPosition
from servicing.services.loss_mitigation import (
    LossMitigationRefused, ModificationTerms, loan_modify, payment_defer, trial_end, trial_start,
)
from tests.actors import TESTS
from tests.integration.remittance.months import INSTALLMENT_CENTS, close, pay, pay_everyone, seed_trust
from remittance.domain.trust_calendar import Period
from trusts.events import PoolLoanRemoved
from trusts.services.pool import pool_loan_remove

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _mid_2026():
    with business_day(date(2026, 6, 30)):
        yield


def kept_trial(loan: str) -> None:
    """Two trial installments of the contractual amount, paid: the loan stays current, the trial is kept."""
    trial_start(loan_number=loan, started_on=date(2026, 1, 20), months=2, payment_cents=INSTALLMENT_CENTS,
                acting_user=TESTS)
    for month in ("2026-02", "2026-03"):
        pay(loan, Period.parse(month), tag="-trial")
    trial_end(loan_number=loan, ended_on=date(2026, 3, 5), acting_user=TESTS)


TERMS = ModificationTerms(date(2026, 3, 10), Decimal("5"), 358, date(2026, 4, 1), forgiven_cents=500_000)


def test_a_forgiveness_is_asked_by_one_and_approved_by_another(loans, clara, chen):
    kept_trial("L011")
    request = forgiveness_request(loan_number="L011", terms=TERMS, reason="income loss; proprietary program",
                                  requested_by=clara)
    assert request.state == State.PENDING and request.amount_cents == 500_000
    assert not Event.objects.filter(event_type="LoanModified").exists()
    with pytest.raises(RequestRefused, match="already has a pending request"):
        forgiveness_request(loan_number="L011", terms=TERMS, reason="again", requested_by=clara)
    with pytest.raises(DecisionRefused):
        request_approve(request_id=request.pk, approver=clara)
    decided = request_approve(request_id=request.pk, approver=chen)
    assert decided.state == State.DONE and "forgave 5,000.00" in decided.outcome
    modified = Event.objects.get(event_type="LoanModified")
    assert modified.payload["requested_by"] == "clara" and modified.payload["approved_by"] == "chen"
    p = LoanPosition.objects.get(loan_id="L011")
    assert p.realized_loss_cents == 500_000 and p.loss_mitigation == "modified"
    assert verify().ok


def test_a_request_the_service_would_refuse_is_not_made(loans, clara):
    with pytest.raises(RequestRefused, match="only a loan whose trial plan was kept is modified"):
        forgiveness_request(loan_number="L011", terms=TERMS, reason="hardship", requested_by=clara)
    kept_trial("L011")
    with pytest.raises(RequestRefused, match="forgives nothing"):
        forgiveness_request(loan_number="L011", terms=ModificationTerms(date(2026, 3, 10), Decimal("5"), 358,
                                                                        date(2026, 4, 1)),
                            reason="hardship", requested_by=clara)
    assert ApprovalRequest.objects.count() == 0


def test_an_approval_the_service_refuses_leaves_the_request_pending(loans, clara, chen):
    kept_trial("L011")
    request = forgiveness_request(loan_number="L011", terms=TERMS, reason="hardship", requested_by=clara)
    loan_modify(loan_number="L011", terms=ModificationTerms(date(2026, 3, 10), Decimal("5"), 358, date(2026, 4, 1)),
                acting_user=TESTS)  # modified meanwhile, without forgiveness
    with pytest.raises(ActFailed, match="still pending"):
        request_approve(request_id=request.pk, approver=chen)
    assert ApprovalRequest.objects.get(pk=request.pk).state == State.PENDING


def test_a_pooled_loan_is_bought_out_before_a_deferral(loans):
    seed_trust()
    with pytest.raises(LossMitigationRefused, match=r"is in the pool of XYZ-2026-1: a payment deferral .* buy it "
                                                    r"out of the pool first"):
        payment_defer(loan_number="L001", deferred_on=date(2026, 3, 20), acting_user=TESTS)
    pool_loan_remove(trust_code="XYZ-2026-1", loan_number="L001", removed_on=date(2026, 3, 20), kind="buyout",
                     reason="delinquent: payment deferral", acting_user=TESTS)
    payment_defer(loan_number="L001", deferred_on=date(2026, 3, 21), acting_user=TESTS)
    assert LoanPosition.objects.get(loan_id="L001").deferred_principal_cents > 0
    assert verify().ok


def test_forgiveness_on_a_pooled_loan_is_the_trusts_realized_loss_and_the_modified_loan_can_be_bought_out(loans):
    seed_trust()
    kept_trial("L001")
    others = [f"L{i:03d}" for i in range(2, 11)]
    pay_everyone("2026-02", loans=others)
    pay_everyone("2026-03", loans=others)
    close("2026-02")
    loan_modify(loan_number="L001", terms=TERMS, acting_user=TESTS)  # nothing to capitalize: the deal allows it
    close("2026-03")
    march = PeriodResult.objects.get(trust__code="XYZ-2026-1", period="2026-03")
    assert march.realized_loss_cents == 500_000
    balance = LoanPosition.objects.get(loan_id="L001").principal_balance_cents
    removal = pool_loan_remove(trust_code="XYZ-2026-1", loan_number="L001", removed_on=date(2026, 4, 15),
                               kind="buyout", reason="modified loan bought out at par", acting_user=TESTS)
    assert PoolLoanRemoved.from_payload(removal.payload).proceeds_principal_cents == balance
    assert verify().ok


def test_asking_for_a_forgiveness_in_the_admin(loans, clara):
    kept_trial("L011")
    client = Client()
    client.force_login(clara)
    url = "/admin/approvals/approvalrequest/request-forgiveness/?loan=L011"
    assert client.get(url).status_code == 200
    form = {"loan_number": "L011", "modified_on": "2026-03-10", "note_rate": "5", "term_months": "358",
            "first_payment_date": "2026-04-01", "principal_forbearance": "0", "forgiven": "5000.00",
            "reason": "income loss"}
    refused = client.post(url, {**form, "first_payment_date": "2026-03-01"})
    assert "must fall after the modification" in refused.content.decode()
    done = client.post(url, form)
    request = ApprovalRequest.objects.get()
    assert done.status_code == 302 and request.amount_cents == 500_000 and request.terms["note_rate"] == "5"
