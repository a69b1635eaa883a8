"""Operations over the API: loans, the log, boarding tapes, payments, payment files, forming trusts, closes.

Every write goes through the same services as the admin and the commands,
with the caller recorded as the acting user.
"""
import json

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile

from approvals.models import ApprovalRequest, Kind, State
from approvals.services import request_approve
from ledger.models import Event
from remittance.events import PeriodClosed
from remittance.models import PeriodResult, TrustPeriod
from remittance.tasks import close_period_task
from servicing.models import Loan
from tests.integration.servicing.tapes import seed_rows, tape
from tests.integration.trusts.deals import TRUST, seed_deal
from trusts.models import Trust

pytestmark = pytest.mark.django_db

PAYMENT = {"loan_number": "L001", "amount": "849.55", "received_on": "2026-02-01", "reference": "BANK-0001"}
PAYMENT_FILE = (b"loan_number,received_on,amount,reference\n"
                b"L001,2026-02-01,849.55,F-1\nL002,2026-02-02,849.55,F-2\n")


def upload(content: bytes, name: str = "file.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="text/csv")


def board(olivia, count: int = 12, **fields):
    return olivia.post("/api/v1/tapes/", {"file": upload(tape(*seed_rows(count))), "boarded_on": "2026-01-15",
                                          **fields}, format="multipart")


def events(event_type: str) -> int:
    return Event.objects.filter(event_type=event_type).count()


def test_boarding_a_tape_with_a_preview_first(olivia):
    preview = olivia.post("/api/v1/tapes/?preview=true", {"file": upload(tape(*seed_rows(2)))}, format="multipart")
    assert preview.status_code == 200 and preview.json()["problems"] == []
    assert [r["loan_number"] for r in preview.json()["rows"]] == ["L001", "L002"]
    assert preview.json()["rows"][0]["current_balance"] == "100000.00" and Loan.objects.count() == 0
    boarded = board(olivia, 2)
    assert boarded.status_code == 201, boarded.content
    assert boarded.json() == {"boarded": ["L001", "L002"], "already_boarded": []}
    assert Event.objects.get(stream="loan:L001", version=1).acting_user.username == "olivia"
    again = board(olivia, 3)
    assert again.json() == {"boarded": ["L003"], "already_boarded": ["L001", "L002"]}


def test_a_bad_tape_boards_nothing_and_lists_every_problem(olivia):
    bad = tape(*seed_rows(2, note_rate="six"))
    preview = olivia.post("/api/v1/tapes/?preview=true", {"file": upload(bad)}, format="multipart")
    assert preview.status_code == 200 and [p["line"] for p in preview.json()["problems"]] == [2, 3]
    response = olivia.post("/api/v1/tapes/", {"file": upload(bad)}, format="multipart")
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "file_rejected" and len(error["fields"]["file"]) == 2
    assert error["fields"]["file"][0].startswith("line 2: ")
    assert Loan.objects.count() == 0
    for query in ("?preview=maybe", ""):
        refused = olivia.post(f"/api/v1/tapes/{query}", {"file": upload(bad), "boarded_on": "soon"},
                              format="multipart")
        assert refused.status_code == 400


def test_loans_listed_filtered_searched_and_in_detail(olivia):
    board(olivia)
    olivia.post("/api/v1/payments/", PAYMENT)
    page = olivia.get("/api/v1/loans/", {"page_size": 5})
    assert page.json()["count"] == 12 and len(page.json()["results"]) == 5 and page.json()["next"]
    assert [r["loan_number"] for r in olivia.get("/api/v1/loans/", {"search": "L01"}).json()["results"]] == [
        "L010", "L011", "L012"]
    assert olivia.get("/api/v1/loans/", {"search": "ada borr"}).json()["count"] == 12
    assert olivia.get("/api/v1/loans/", {"status": "paid_off"}).json()["count"] == 0
    assert olivia.get("/api/v1/loans/", {"delinquency_bucket": "current", "status": "active"}).json()["count"] == 12
    assert olivia.get("/api/v1/loans/", {"delinquency_bucket": "120"}).status_code == 400
    detail = olivia.get("/api/v1/loans/L001/").json()
    assert detail["position"]["principal_balance"] == "99900.45" and detail["note_rate"] == "6"
    assert detail["payment_pi"] == "599.55" and detail["position"]["last_payment_date"] == "2026-02-01"
    history = olivia.get(detail["events_url"]).json()["results"]
    assert [e["event_type"] for e in history] == ["LoanBoarded", "PaymentPosted"]
    assert history[1]["payload"]["amount"] == "849.55" and history[1]["acting_user"] == "olivia"
    assert {"account": "loan:L001:principal", "amount": "-99.55"} in history[1]["postings"]
    assert olivia.get("/api/v1/loans/L999/").status_code == 404
    assert olivia.get("/api/v1/loans/L999/events/").status_code == 404


def test_posting_a_payment(olivia):
    board(olivia)
    posted = olivia.post("/api/v1/payments/", PAYMENT)
    assert posted.status_code == 201, posted.content
    body = posted.json()
    assert (body["event_type"], body["already_posted"], body["paid_off"]) == ("PaymentPosted", False, False)
    assert body["parts"]["interest"] == "500.00" and body["parts"]["principal"] == "99.55"
    assert body["parts"]["escrow"] == "250.00" and body["effective_date"] == "2026-02-01"
    # The bank reference posts once, even without an Idempotency-Key.
    again = olivia.post("/api/v1/payments/", PAYMENT)
    assert again.status_code == 200 and again.json()["already_posted"] is True
    assert events("PaymentPosted") == 1


@pytest.mark.parametrize("changes, field", [
    ({"amount": 849.55}, "amount"),  # a JSON number: money travels as a string
    ({"amount": "849.555"}, "amount"),  # fractions of a cent are refused, never rounded
    ({"amount": "0.00"}, "amount"),
    ({"amount": "-5.00"}, "amount"),
    ({"amount": "599,55"}, "amount"),  # regression: posted as 59,955.00 when commas were deleted
    ({"amount": "1,0,0.00"}, "amount"),
    ({"amount": "5.9955E+02"}, "amount"),
    ({"amount": "8 49.55"}, "amount"),
    ({"received_on": "02/01/2026"}, "received_on"),
    ({"reference": ""}, "reference"),
    ({"status": "paid_off"}, "status"),  # not a field of a payment: refused, not ignored
    ({"principal_balance": "0.00"}, "principal_balance"),
    ({"acting_user": 1}, "acting_user"),
])
def test_bad_payments_are_400_with_the_field_named(olivia, changes, field):
    board(olivia, 1)
    response = olivia.post("/api/v1/payments/", {**PAYMENT, **changes})
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "invalid" and field in response.json()["error"]["fields"]
    assert events("PaymentPosted") == 0


def test_a_decimal_comma_is_named_in_the_400(olivia):
    board(olivia, 1)
    response = olivia.post("/api/v1/payments/", {**PAYMENT, "amount": "599,55"})
    assert response.status_code == 400, response.content
    assert response.json()["error"]["fields"]["amount"] == [
        "'599,55' looks like a decimal comma; write dollars with a '.' before the cents and commas only between "
        "thousands, like 1,234.56"]
    assert events("PaymentPosted") == 0


@pytest.mark.parametrize("changes, status, code", [
    ({"loan_number": "L999"}, 422, "unknown_loan"),
    ({"received_on": "2099-01-01"}, 422, "refused"),
    ({"received_on": "2026-01-01"}, 422, "refused"),  # before the loan was boarded
])
def test_payments_the_rules_refuse_are_4xx(olivia, changes, status, code):
    board(olivia, 1)
    response = olivia.post("/api/v1/payments/", {**PAYMENT, **changes})
    assert (response.status_code, response.json()["error"]["code"]) == (status, code)
    assert response.json()["error"]["message"]


def test_a_reference_used_for_another_payment_is_a_conflict(olivia):
    board(olivia, 2)
    olivia.post("/api/v1/payments/", PAYMENT)
    response = olivia.post("/api/v1/payments/", {**PAYMENT, "loan_number": "L002"})
    assert (response.status_code, response.json()["error"]["code"]) == (409, "duplicate_reference")


def test_a_payment_file_previewed_then_imported(olivia):
    board(olivia, 2)
    preview = olivia.post("/api/v1/payment-files/?preview=true", {"file": upload(PAYMENT_FILE)}, format="multipart")
    assert preview.status_code == 200
    assert [r["reference"] for r in preview.json()["to_post"]] == ["F-1", "F-2"] and events("PaymentPosted") == 0
    imported = olivia.post("/api/v1/payment-files/", {"file": upload(PAYMENT_FILE)}, format="multipart")
    assert imported.status_code == 201
    assert [p["loan_number"] for p in imported.json()["posted"]] == ["L001", "L002"]
    again = olivia.post("/api/v1/payment-files/", {"file": upload(PAYMENT_FILE)}, format="multipart")
    assert again.json()["posted"] == [] and len(again.json()["already_posted"]) == 2
    assert events("PaymentPosted") == 2


def test_a_bad_payment_file_posts_nothing(olivia):
    board(olivia, 1)
    bad = PAYMENT_FILE + b"L404,2026-02-01,10.00,F-3\n"
    response = olivia.post("/api/v1/payment-files/", {"file": upload(bad)}, format="multipart")
    assert response.status_code == 422
    assert response.json()["error"]["fields"]["file"] == ["line 3: loan L002 is not boarded",
                                                          "line 4: loan L404 is not boarded"]
    assert events("PaymentPosted") == 0
    no_file = olivia.post("/api/v1/payment-files/", {}, format="multipart")
    assert no_file.status_code == 400 and "file" in no_file.json()["error"]["fields"]


def test_forming_a_trust_from_a_deal_file_as_json_or_upload(olivia):
    board(olivia)
    formed = olivia.post("/api/v1/trusts/", seed_deal())
    assert formed.status_code == 201, formed.content
    assert formed["Location"] == f"/api/v1/trusts/{TRUST}/"
    assert formed.json()["code"] == TRUST and formed.json()["issuer_spread_rate"] == "0.6"
    other = seed_deal(code="XYZ-2026-2", loans=["L011", "L012"],
                      classes=[{"name": "A", "face": "200000.00", "coupon": "5", "principal": "pro-rata"}],
                      holders=[{"code": "INV-01", "class": "A", "face": "200000.00"}])
    uploaded = olivia.post("/api/v1/trusts/", {"file": upload(json.dumps(other).encode(), "deal.json")},
                           format="multipart")
    assert uploaded.status_code == 201, uploaded.content
    assert olivia.get("/api/v1/trusts/XYZ-2026-2/classes/").json()["results"][0]["coupon"] == "5"
    assert Trust.objects.count() == 2


def test_a_bad_deal_forms_nothing_and_lists_every_problem(olivia):
    board(olivia)
    response = olivia.post("/api/v1/trusts/", seed_deal(loans=["L001", "L404"], issuer_spread_rate="lots"))
    assert response.status_code == 422
    problems = response.json()["error"]["fields"]["deal"]
    assert len(problems) >= 1 and Trust.objects.count() == 0
    assert olivia.post("/api/v1/trusts/", "not json", content_type="application/json").status_code == 400
    assert olivia.post("/api/v1/trusts/", [1, 2]).status_code == 422


def test_a_period_close_is_asked_for_approved_by_another_then_polled(
        olivia, arthur, deals, close_queue, django_capture_on_commit_callbacks):
    olivia.post("/api/v1/payment-files/", {"file": upload(
        b"loan_number,received_on,amount,reference\n" + b"".join(
            f"L{i:03d},2026-03-01,849.55,M-{i}\n".encode() for i in range(1, 11)))}, format="multipart")
    url = f"/api/v1/trusts/{TRUST}/periods/2026-03/close/"
    with django_capture_on_commit_callbacks(execute=True):
        accepted = olivia.post(url)
    assert accepted.status_code == 202, accepted.content
    body = accepted.json()
    assert body["status"] == "requested" and accepted["Location"] == f"/api/v1/trusts/{TRUST}/periods/2026-03/"
    # Four eyes: the API asks; nothing runs until another staff member approves.
    assert close_queue.sent == []
    olivia_user, arthur_user = User.objects.get(username="olivia"), User.objects.get(username="arthur")
    request = ApprovalRequest.objects.get(kind=Kind.PERIOD_CLOSE, trust__code=TRUST, period="2026-03")
    assert request.state == State.PENDING and request.requested_by == olivia_user
    assert olivia.get(body["status_url"]).json()["status"] == "open"
    again = olivia.post(url)
    assert (again.status_code, again.json()["error"]["code"]) == (409, "close_already_requested")
    assert f"already has a pending request #{request.pk}, asked by olivia" in again.json()["error"]["message"]

    with django_capture_on_commit_callbacks(execute=True):
        request_approve(request_id=request.pk, approver=arthur_user)
    [(args, kwargs)] = close_queue.sent
    assert args == (TRUST, "2026-03") and kwargs == {"requested_by": olivia_user.pk, "approved_by": arthur_user.pk}
    assert close_period_task.apply(args=args, kwargs=kwargs).get()["status"] == "closed"  # a worker's turn
    polled = olivia.get(body["status_url"]).json()
    assert polled["status"] == "closed" and polled["result"]["paid_to_holders"] == "4996.50"
    assert polled["record_date"] == "2026-03-31" and polled["attempts"] == 1
    assert olivia.get(polled["report_url"]).json()["header"]["period"] == "2026-03"
    assert PeriodResult.objects.filter(trust__code=TRUST, period="2026-03").exists()
    closed = Event.objects.get(event_type="PeriodClosed", stream=f"remittance:{TRUST}",
                               payload__period="2026-03")
    decided = PeriodClosed.from_payload(closed.payload)
    assert (decided.requested_by, decided.approved_by) == ("olivia", "arthur")
    assert closed.acting_user == arthur_user  # the approver's act made it happen
    assert TrustPeriod.objects.get(trust__code=TRUST, period="2026-03").requested_by == olivia_user


def test_a_close_that_cannot_run_is_refused_at_once(olivia, deals):
    def close(period, trust=TRUST):
        response = olivia.post(f"/api/v1/trusts/{trust}/periods/{period}/close/")
        return response.status_code, response.json()["error"]["code"]

    assert close("2026-02") == (409, "period_already_closed")
    assert close("2026-04") == (422, "close_refused")  # March is still open
    assert close("2026-01") == (422, "close_refused")  # before the trust's first period
    assert close("2099-01") == (422, "close_refused")  # has not ended
    assert close("2026-13") == (400, "invalid")
    assert close("2026-03", trust="NOPE") == (404, "not_found")
    open_period = olivia.get(f"/api/v1/trusts/{TRUST}/periods/2026-04/").json()
    assert open_period["status"] == "open" and open_period["result"] is None and open_period["attempts"] == 0
    assert olivia.get(f"/api/v1/trusts/{TRUST}/periods/2026-01/").status_code == 404


def test_the_event_log_by_cursor_with_filters(olivia, deals):
    first = olivia.get("/api/v1/events/", {"page_size": 5}).json()
    assert [e["position"] for e in first["results"]] == [1, 2, 3, 4, 5] and "count" not in first
    second = olivia.get(first["next"]).json()
    assert [e["position"] for e in second["results"]] == [6, 7, 8, 9, 10]
    paid = olivia.get("/api/v1/events/", {"event_type": "PaymentPosted", "page_size": 100}).json()["results"]
    assert len(paid) == 12 and {e["effective_date"] for e in paid} == {"2026-02-01"}
    stream = olivia.get("/api/v1/events/", {"stream": "loan:L003"}).json()["results"]
    assert [e["version"] for e in stream] == [1, 2]
    window = olivia.get("/api/v1/events/", {"effective_date_after": "2026-02-02", "effective_date_before": "2026-12-31",
                                            "stream_prefix": "remittance:"}).json()["results"]
    assert window and all(e["stream"].startswith("remittance:") and e["effective_date"] > "2026-02-01"
                          for e in window)
    single = olivia.get("/api/v1/events/1/").json()
    assert single["stream"] == "loan:L001" and single["payload"]["current_balance"] == "100000.00"
    assert olivia.get("/api/v1/events/", {"effective_date_after": "yesterday"}).status_code == 400


def test_fields_that_are_not_writable_are_refused_on_every_write(olivia, deals):
    """Mass assignment: a status, an amount, a holder or a user sent where they are not inputs is never applied."""
    sneaked = {"status": "closed", "acting_user": "1", "holder": "INV-02", "amount": "1.00"}
    tape_upload = {"file": upload(tape(*seed_rows(1))), **sneaked}
    for url, body, kind in (
        ("/api/v1/tapes/", tape_upload, "multipart"),
        ("/api/v1/payment-files/", {"file": upload(PAYMENT_FILE), **sneaked}, "multipart"),
        (f"/api/v1/trusts/{TRUST}/periods/2026-03/close/", sneaked, "json"),
    ):
        response = olivia.post(url, body, format=kind)
        assert response.status_code == 400, (url, response.content)
        assert set(response.json()["error"]["fields"]) == set(sneaked)
    assert not PeriodResult.objects.filter(period="2026-03").exists()
    assert events("PaymentPosted") == 12  # February's, nothing more
