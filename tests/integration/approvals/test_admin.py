"""Four-eyes in the admin: asking, approving, rejecting, and the refusals the service enforces."""
from datetime import date

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from approvals.models import ApprovalRequest, State
from approvals.services import close_request, reversal_request
from ledger.models import Event
from remittance.domain.trust_calendar import Period
from tests.integration.remittance.months import pay, pay_everyone, seed_trust
from tests.integration.trusts.deals import TRUST

pytestmark = pytest.mark.django_db
REFERENCE = "T-2026-02-L001"


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def change_url(request) -> str:
    return reverse("admin:approvals_approvalrequest_change", args=[request.pk])


def decide(user, request, **post):
    response = client_for(user).post(reverse("admin:approvals_approvalrequest_decide", args=[request.pk]), post)
    assert response.status_code == 302 and response["Location"] == change_url(request)
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def february(loans):
    seed_trust()
    pay_everyone("2026-02")


@pytest.fixture
def reversal(loans, clara):
    pay("L001", Period.parse("2026-02"))
    return reversal_request(loan_number="L001", reference=REFERENCE, returned_on=date(2026, 2, 5), reason="NSF",
                            requested_by=clara)


def test_the_urls_other_pages_link_to():
    assert reverse("admin:approvals_request_close") == "/admin/approvals/approvalrequest/request-close/"
    assert reverse("admin:approvals_request_reversal") == "/admin/approvals/approvalrequest/request-reversal/"


def test_asking_for_a_close_from_a_prefilled_form(february, clara):
    url = reverse("admin:approvals_request_close")
    page = client_for(clara).get(url, {"trust": TRUST, "period": "2026-02"}).content.decode()
    assert f'<option value="{TRUST}" selected>' in page and 'value="2026-02"' in page
    response = client_for(clara).post(url, {"trust": TRUST, "period": "2026-02"}, follow=True)
    request = ApprovalRequest.objects.get()
    assert response.redirect_chain == [(change_url(request), 302)]
    assert request.requested_by == clara and request.state == State.PENDING
    assert "Requested; another staff member with approval permission must approve it" in response.content.decode()


def test_a_close_the_service_refuses_is_shown_on_the_form(february, clara):
    response = client_for(clara).post(reverse("admin:approvals_request_close"), {"trust": TRUST, "period": "2026-03"})
    assert response.status_code == 200 and "before 2026-02 is closed" in response.content.decode()
    assert not ApprovalRequest.objects.exists()


def test_asking_for_a_reversal_picks_from_the_loans_payments(loans, clara):
    pay("L001", Period.parse("2026-02"))
    url = reverse("admin:approvals_request_reversal")
    page = client_for(clara).get(url, {"loan": "L001"}).content.decode()
    assert f'<option value="{REFERENCE}">{REFERENCE}: 849.55 received on 2026-02-01</option>' in page
    response = client_for(clara).post(url, {"loan_number": "L001", "reference": REFERENCE,
                                            "returned_on": "2026-02-05", "reason": "NSF"})
    request = ApprovalRequest.objects.get()
    assert response.status_code == 302 and response["Location"] == change_url(request)
    assert (request.loan_number, request.reference, request.returned_on) == ("L001", REFERENCE, date(2026, 2, 5))


def test_asking_needs_the_request_permission(loans, chen):
    assert client_for(chen).get(reverse("admin:approvals_request_reversal")).status_code == 403


def test_a_staff_member_with_the_permission_approves(reversal, chen):
    page = client_for(chen).get(change_url(reversal)).content.decode()
    assert 'name="approve"' in page and 'name="reject"' in page
    assert "Feb. 5, 2026" in page and ">NSF<" in page  # the day the bank returned it, and why
    [message] = decide(chen, reversal, approve="Approve")
    assert message.startswith(f"#{reversal.pk} done: returned 849.55")
    returned = Event.objects.get(event_type="PaymentReturned")
    assert (returned.payload["requested_by"], returned.payload["approved_by"]) == ("clara", "chen")
    assert 'name="approve"' not in client_for(chen).get(change_url(reversal)).content.decode()


def test_approving_a_close_in_the_admin_enqueues_it(
        february, clara, chen, close_queue, django_capture_on_commit_callbacks):
    request = close_request(trust_code=TRUST, period="2026-02", requested_by=clara)
    with django_capture_on_commit_callbacks(execute=True):
        [message] = decide(chen, request, approve="Approve")
    assert message.startswith(f"#{request.pk} approved: approved; the close of {TRUST} 2026-02 is enqueued")
    assert len(close_queue.sent) == 1
    assert "period open" in client_for(chen).get(change_url(request)).content.decode()  # the live status
    close_queue.run()
    page = client_for(chen).get(change_url(request)).content.decode()
    assert "period closed" in page and "closed: 4,995.50 paid in 10 holder payment(s)" in page


def test_a_staff_member_without_the_permission_is_refused_and_nothing_happens(reversal, jo):
    assert 'name="approve"' not in client_for(jo).get(change_url(reversal)).content.decode()
    [message] = decide(jo, reversal, approve="Approve")
    assert "jo may not decide" in message and "Can approve requests of another staff member" in message
    assert ApprovalRequest.objects.get(pk=reversal.pk).state == State.PENDING
    assert not Event.objects.filter(event_type="PaymentReturned").exists()


def test_the_requester_cannot_approve_their_own_request(reversal, clara):
    from django.contrib.auth.models import Permission

    clara.user_permissions.add(Permission.objects.get(codename="approve_request"))
    page = client_for(clara).get(change_url(reversal)).content.decode()
    assert 'name="approve"' not in page and "another staff member with the approval permission must" in page
    [message] = decide(clara, reversal, approve="Approve")
    assert "was asked for by you, clara" in message
    assert ApprovalRequest.objects.get(pk=reversal.pk).state == State.PENDING
    assert not Event.objects.filter(event_type="PaymentReturned").exists()


def test_rejecting_needs_a_reason(reversal, chen):
    [message] = decide(chen, reversal, reject="Reject", reason="")
    assert "give the reason for rejecting" in message
    [message] = decide(chen, reversal, reject="Reject", reason="the bank recalled its notice")
    assert message == f"#{reversal.pk} rejected: rejected: the bank recalled its notice"
    assert ApprovalRequest.objects.get(pk=reversal.pk).state == State.REJECTED


def test_the_list_shows_pending_first_and_nothing_is_edited_or_deleted(february, reversal, clara, chen, admin_client):
    done = close_request(trust_code=TRUST, period="2026-02", requested_by=clara)
    from approvals.services import request_reject

    request_reject(request_id=done.pk, approver=chen, reason="not yet")
    page = admin_client.get(reverse("admin:approvals_approvalrequest_changelist")).content.decode()
    assert page.index(f"loan L001 payment {REFERENCE}") < page.index(f"{TRUST} 2026-02")
    assert "Request a period close" in page and "Request a payment reversal" in page
    filtered = admin_client.get(reverse("admin:approvals_approvalrequest_changelist"), {"state__exact": "rejected"})
    assert f"loan L001 payment {REFERENCE}" not in filtered.content.decode()
    assert admin_client.get(reverse("admin:approvals_approvalrequest_add")).status_code == 403
    assert admin_client.post(reverse("admin:approvals_approvalrequest_delete", args=[reversal.pk])).status_code == 403
    page = admin_client.get(change_url(reversal)).content.decode()
    assert 'name="_save"' not in page and 'name="approve"' in page
    assert ApprovalRequest.objects.count() == 2


def test_the_trust_and_loan_pages_link_to_the_requests(client, django_user_model, loans):
    from django.contrib.auth.models import Permission

    asker = django_user_model.objects.create_user("asker", password="x", is_staff=True)
    for codename in ("add_approvalrequest", "view_trust", "view_loan"):
        asker.user_permissions.add(Permission.objects.get(codename=codename))
    client.force_login(asker)
    trust = seed_trust()
    trust_page = client.get(f"/admin/trusts/trust/{trust.pk}/change/").content.decode()
    assert "/admin/approvals/approvalrequest/request-close/?trust=XYZ-2026-1" in trust_page
    loan_page = client.get("/admin/servicing/loan/L001/change/").content.decode()
    assert "/admin/approvals/approvalrequest/request-reversal/?loan=L001" in loan_page
