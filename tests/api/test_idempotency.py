"""Idempotency-Key: the same key and request replay the first answer with no second effect.

The same key with a different request is refused (422); answers that say
"try again" (409) are not remembered; and ten identical requests at once
make one effect and ten identical answers (PostgreSQL, real threads).
"""
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.db import connections
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.test import APIClient, APIRequestFactory

from api.access import OPERATIONS_GROUP
from api.idempotency import fingerprint
from api.models import IdempotencyRecord
from approvals.models import ApprovalRequest
from ledger.models import Event
from tests.api.test_operations import PAYMENT, PAYMENT_FILE, board, events, upload
from tests.integration.trusts.deals import TRUST

pytestmark = pytest.mark.django_db


def post(client, url, data=None, key="key-1", **kwargs):
    return client.post(url, data, HTTP_IDEMPOTENCY_KEY=key, **kwargs)


def test_the_same_key_and_body_replays_the_first_answer(olivia):
    board(olivia, 1)
    first = post(olivia, "/api/v1/payments/", PAYMENT)
    second = post(olivia, "/api/v1/payments/", dict(reversed(list(PAYMENT.items()))))  # same body, other key order
    assert first.status_code == second.status_code == 201
    assert first.content == second.content and second["Idempotent-Replayed"] == "true"
    assert second.json()["already_posted"] is False  # the first answer, not a second attempt's
    assert events("PaymentPosted") == 1 and IdempotencyRecord.objects.get().state == "done"


def test_the_same_key_with_another_request_is_refused(olivia):
    board(olivia, 2)
    post(olivia, "/api/v1/payments/", PAYMENT)
    for url, body in (("/api/v1/payments/", {**PAYMENT, "amount": "849.56"}),
                      ("/api/v1/payments/", {**PAYMENT, "loan_number": "L002", "reference": "BANK-0002"}),
                      ("/api/v1/payment-files/?preview=true", None)):
        response = post(olivia, url, body)
        assert response.status_code == 422, response.content
        assert response.json()["error"]["code"] == "idempotency_key_reused"
    assert events("PaymentPosted") == 1


def test_keys_belong_to_their_user(olivia):
    board(olivia, 2)
    post(olivia, "/api/v1/payments/", PAYMENT)
    other = APIClient()
    user = User.objects.create_user("oscar")
    user.groups.add(Group.objects.get(name=OPERATIONS_GROUP))
    other.force_authenticate(user)
    response = post(other, "/api/v1/payments/", {**PAYMENT, "loan_number": "L002", "reference": "BANK-0002"})
    assert response.status_code == 201 and events("PaymentPosted") == 2


@pytest.mark.parametrize("key", ["", "has space", "x" * 201, "naïve"])
def test_a_malformed_key_is_400(olivia, key):
    response = post(olivia, "/api/v1/payments/", PAYMENT, key=key)
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_idempotency_key"


def test_an_upload_replays_whatever_the_multipart_boundary(olivia):
    board(olivia, 2)
    first = post(olivia, "/api/v1/payment-files/", {"file": upload(PAYMENT_FILE)}, format="multipart")
    second = post(olivia, "/api/v1/payment-files/", {"file": upload(PAYMENT_FILE, "renamed.csv")}, format="multipart")
    assert first.status_code == second.status_code == 201 and first.content == second.content
    assert events("PaymentPosted") == 2
    other = post(olivia, "/api/v1/payment-files/", {"file": upload(PAYMENT_FILE + b"L001,2026-03-01,1.00,F-9\n")},
                 format="multipart")
    assert other.status_code == 422


def test_a_refusal_is_remembered_but_a_conflict_is_not(olivia, deals):
    refused = post(olivia, "/api/v1/payments/", {**PAYMENT, "loan_number": "L999"}, key="refused")
    assert refused.status_code == 422
    assert post(olivia, "/api/v1/payments/", {**PAYMENT, "loan_number": "L999"}, key="refused").content == \
        refused.content
    conflict = post(olivia, f"/api/v1/trusts/{TRUST}/periods/2026-02/close/", key="conflict")
    assert conflict.status_code == 409
    assert not IdempotencyRecord.objects.filter(key="conflict").exists()  # retrying the key runs again


def test_a_close_request_replays_its_202_and_is_asked_for_once(olivia, deals, close_queue,
                                                               django_capture_on_commit_callbacks):
    url = f"/api/v1/trusts/{TRUST}/periods/2026-03/close/"
    with django_capture_on_commit_callbacks(execute=True):
        first = post(olivia, url, key="close-march")
        second = post(olivia, url, key="close-march")
    assert first.status_code == second.status_code == 202 and first.content == second.content
    assert second["Location"] == first["Location"]
    # One approval request, not two; nothing enqueued until another staff member approves it.
    assert ApprovalRequest.objects.filter(trust__code=TRUST, period="2026-03").count() == 1
    assert close_queue.sent == []


def test_a_duplicate_waits_for_the_first_then_gives_up_with_409(olivia, settings):
    board(olivia, 1)
    settings.API_IDEMPOTENCY_WAIT_SECONDS = 0.2
    user = User.objects.get(username="olivia")
    IdempotencyRecord.objects.create(user=user, key="busy", fingerprint=payment_fingerprint(PAYMENT),
                                     claimed_at=timezone.now())
    response = post(olivia, "/api/v1/payments/", PAYMENT, key="busy")
    assert (response.status_code, response.json()["error"]["code"]) == (409, "idempotency_key_in_progress")
    assert events("PaymentPosted") == 0
    # A claim left behind by a request that died long ago is taken over.
    IdempotencyRecord.objects.filter(key="busy").update(claimed_at=timezone.now() - timedelta(hours=1))
    assert post(olivia, "/api/v1/payments/", PAYMENT, key="busy").status_code == 201
    assert events("PaymentPosted") == 1


def payment_fingerprint(body) -> str:
    """The fingerprint the API computes for this payment request."""
    request = APIRequestFactory().post("/api/v1/payments/", body, format="json")
    return fingerprint(Request(request, parsers=[JSONParser()]))


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_ten_identical_requests_at_once_make_one_payment(loans):
    user = User.objects.create_user("ops")
    user.groups.add(Group.objects.get(name=OPERATIONS_GROUP))
    token = Token.objects.create(user=user).key
    barrier = threading.Barrier(10)

    def contender(_):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        try:
            barrier.wait()
            response = post(client, "/api/v1/payments/", PAYMENT, key="same-for-all")
            return response.status_code, response.content
        finally:
            connections.close_all()

    with ThreadPoolExecutor(10) as pool:
        answers = list(pool.map(contender, range(10)))
    assert {status for status, _ in answers} == {201}
    assert len({content for _, content in answers}) == 1
    assert Event.objects.filter(event_type="PaymentPosted", idempotency_key="payment:BANK-0001").count() == 1
    assert IdempotencyRecord.objects.get().state == "done"
