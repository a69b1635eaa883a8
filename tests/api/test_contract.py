"""The API's contract: the schema and docs, one error shape, money and date formats, CSV, auth and throttling."""
import csv
import io
import json
import re

import pytest
from django.contrib.staticfiles import finders
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from tests.api.conftest import login
from tests.api.test_operations import PAYMENT, board, upload
from tests.integration.servicing.tapes import tape
from tests.integration.trusts.deals import TRUST, seed_deal

pytestmark = pytest.mark.django_db

MONEY = re.compile(r"^-?\d+\.\d{2}$")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def schema(client=None) -> dict:
    response = (client or APIClient()).get("/api/v1/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def operations(document: dict):
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            yield method, path, operation


def test_the_schema_is_valid_openapi_3_and_public(db):
    document = schema()
    validate_schema(document)  # drf-spectacular's check against the OpenAPI 3 JSON schema
    assert document["openapi"].startswith("3.")
    assert len(list(operations(document))) >= 25


def test_the_schema_documents_errors_idempotency_and_closed_request_bodies(db):
    document = schema()
    for method, path, operation in operations(document):
        codes = set(operation["responses"])
        assert {"400", "401", "403", "404"} <= codes, (method, path)
        error = operation["responses"]["404"]["content"]["application/json"]["schema"]
        assert error == {"$ref": "#/components/schemas/Error"}
        headers = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
        is_write_with_effect = method == "post" and path != "/api/v1/auth/token/"
        assert ("Idempotency-Key" in headers) == is_write_with_effect, (method, path)
        if method == "post":
            assert {"409", "422", "429"} <= codes
    components = document["components"]["schemas"]
    assert components["NewPaymentRequest"]["additionalProperties"] is False
    assert components["NewPaymentRequest"]["properties"]["amount"]["pattern"] == MONEY.pattern


def test_the_docs_page_loads_with_no_outside_urls(db):
    response = APIClient().get("/api/v1/docs/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "swagger-ui" in page and not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", page, re.I)
    assets = re.findall(r'(?:src|href)="/static/([^"]+)"', page)
    assert len(assets) >= 3 and all(finders.find(asset) for asset in assets)
    assert '"validatorUrl": null' in page  # Swagger UI would otherwise call validator.swagger.io


def assert_one_shape(response, status: int, code: str | None = None):
    assert response.status_code == status, (response.status_code, response.content)
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "fields"}, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert isinstance(body["error"]["fields"], dict)
    if code:
        assert body["error"]["code"] == code


def test_every_error_has_the_one_shape(olivia, alice, anonymous, monkeypatch):
    board(olivia, 1)
    assert_one_shape(anonymous.get("/api/v1/me/"), 401, "not_authenticated")
    bad_token = APIClient()
    bad_token.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    assert_one_shape(bad_token.get("/api/v1/me/"), 401, "authentication_failed")
    assert_one_shape(alice.get("/api/v1/loans/"), 403, "permission_denied")
    assert_one_shape(alice.get("/api/v1/no-such-endpoint/"), 404, "not_found")
    assert_one_shape(olivia.get("/api/v1/loans/L404/"), 404, "not_found")
    assert_one_shape(olivia.get("/api/v1/loans/", {"page": 99}), 404, "not_found")
    assert_one_shape(olivia.get("/api/v1/payments/"), 405, "method_not_allowed")
    assert_one_shape(olivia.post("/api/v1/payments/", "{", content_type="application/json"), 400, "parse_error")
    assert_one_shape(olivia.post("/api/v1/payments/", "x", content_type="text/plain"), 415,
                     "unsupported_media_type")
    assert_one_shape(olivia.get("/api/v1/loans/", HTTP_ACCEPT="application/xml"), 406, "not_acceptable")
    invalid = olivia.post("/api/v1/payments/", {"amount": "1.001"})
    assert_one_shape(invalid, 400, "invalid")
    assert set(invalid.json()["error"]["fields"]) == {"loan_number", "amount", "received_on", "reference"}
    assert_one_shape(olivia.post("/api/v1/payments/", {**PAYMENT, "loan_number": "L404"}), 422, "unknown_loan")
    assert_one_shape(alice.get(f"/api/v1/trusts/{TRUST}/reports/2026-07/"), 404, "report_unavailable")
    assert_one_shape(alice.get("/api/v1/me/statements/26-02/"), 400, "invalid")
    assert_one_shape(alice.get("/api/v1/me/statements/1990-01/"), 400, "invalid")
    assert_one_shape(alice.get("/api/v1/me/statements/2026-07/", {"format": "csv"}), 404, "report_unavailable")
    # A bug answers 500 in the same shape, without internals.
    monkeypatch.setattr("api.views.operations.payment_post", lambda **kwargs: 1 / 0)
    crashed = olivia.post("/api/v1/payments/", PAYMENT)
    assert_one_shape(crashed, 500, "server_error")
    assert "ZeroDivision" not in crashed.content.decode()


def money_and_dates(value, key=""):
    """Every money amount and date in a JSON document, by key."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from money_and_dates(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from money_and_dates(v, key)
    else:
        yield key, value


MONEY_KEYS = {"original_face", "current_face", "face", "face_held", "interest", "principal", "total", "balance",
              "denomination", "pool_balance", "balance_begin", "balance_end", "interest_due",
              "interest_paid", "interest_shortfall", "principal_paid", "loss_written_off", "amount"}


def test_money_is_a_dollar_string_and_dates_are_iso(alice):
    urls = ["/api/v1/me/holdings/", "/api/v1/me/register/", "/api/v1/me/distributions/",
            "/api/v1/me/statements/2026-02/", f"/api/v1/trusts/{TRUST}/", f"/api/v1/trusts/{TRUST}/classes/",
            f"/api/v1/trusts/{TRUST}/factors/", f"/api/v1/trusts/{TRUST}/reports/2026-02/"]
    seen = set()
    for url in urls:
        for key, value in money_and_dates(alice.get(url).json()):
            if key in MONEY_KEYS and value is not None:
                assert isinstance(value, str) and MONEY.match(value), (url, key, value)
                seen.add(key)
            if key.endswith("_date"):
                assert isinstance(value, str) and ISO_DATE.match(value), (url, key, value)
            assert not isinstance(value, float), (url, key, value)
    assert {"interest", "principal", "total", "face_held", "balance"} <= seen
    distribution = alice.get("/api/v1/me/distributions/").json()["results"][0]
    assert (distribution["interest"], distribution["principal"], distribution["total"]) == ("400.00", "99.55",
                                                                                             "499.55")
    classes = alice.get(f"/api/v1/trusts/{TRUST}/classes/").json()["results"][0]
    assert classes["factor"] == "0.99900450" and classes["coupon"] is None and classes["net_wac"] is True


def test_the_statement_and_the_report_in_csv(alice):
    by_param = alice.get("/api/v1/me/statements/2026-02/", {"format": "csv"})
    by_header = alice.get("/api/v1/me/statements/2026-02/", HTTP_ACCEPT="text/csv")
    assert by_param.status_code == 200 and by_param["Content-Type"].startswith("text/csv")
    assert by_param.content == by_header.content
    assert 'filename="statement-INV-01-2026-02.csv"' in by_param["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(by_param.content.decode())))
    assert rows[0]["line"] == "distribution" and rows[0]["total"] == "499.55"
    report = alice.get(f"/api/v1/trusts/{TRUST}/reports/2026-02/", {"format": "csv"})
    assert report.status_code == 200 and "section,item,value" in report.content.decode()
    json_report = alice.get(f"/api/v1/trusts/{TRUST}/reports/2026-02/").json()
    assert json_report["reconciliation"]["reconciled"] is True
    assert json_report["servicing_fee"]["paid"] == "500.00"
    realized = alice.get(f"/api/v1/trusts/{TRUST}/speeds/").json()["results"][0]
    assert {k: json_report["speeds"][k] for k in ("smm", "cpr", "psa", "loan_month", "scheduled_end", "actual_end")} \
        == {k: realized[k] for k in ("smm", "cpr", "psa", "loan_month", "scheduled_end", "actual_end")}
    assert "speeds,smm,0.000000" in report.content.decode()


def test_a_token_for_a_username_and_password(deals):
    login("alice", holder="INV-01")
    client = APIClient()
    token = client.post("/api/v1/auth/token/", {"username": "alice", "password": "alice-password-1"})
    assert token.status_code == 200
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.json()['token']}")
    assert client.get("/api/v1/me/").json()["holder_code"] == "INV-01"
    wrong = APIClient().post("/api/v1/auth/token/", {"username": "alice", "password": "guess"})
    assert_one_shape(wrong, 400, "invalid")


def test_logins_are_throttled_per_address(db, monkeypatch):
    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "login", "3/minute")
    client = APIClient()
    for _ in range(3):
        assert client.post("/api/v1/auth/token/", {"username": "x", "password": "y"}).status_code == 400
    throttled = client.post("/api/v1/auth/token/", {"username": "x", "password": "y"})
    assert_one_shape(throttled, 429, "throttled")
    assert int(throttled["Retry-After"]) > 0


def test_writes_are_throttled_per_user_and_reads_are_not(olivia, monkeypatch):
    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "writes", "2/minute")
    for _ in range(2):
        olivia.post("/api/v1/payments/", {})
    assert_one_shape(olivia.post("/api/v1/payments/", {}), 429, "throttled")
    for _ in range(5):
        assert olivia.get("/api/v1/me/").status_code == 200


def test_the_browsable_api_with_a_session_and_csrf(deals):
    login("alice", holder="INV-01")
    login("olivia", operations=True)
    browser = APIClient(enforce_csrf_checks=True)
    assert browser.login(username="alice", password="alice-password-1")
    page = browser.get("/api/v1/me/distributions/", HTTP_ACCEPT="text/html")
    assert page.status_code == 200 and b"499.55" in page.content
    assert browser.get("/api/v1/me/").json()["holder_code"] == "INV-01"
    # A session write without the CSRF token is refused (tokens need none: browsers do not send them).
    assert browser.login(username="olivia", password="olivia-password-1")
    refused = browser.post("/api/v1/payments/", {**PAYMENT, "reference": "CSRF-1"})
    assert_one_shape(refused, 403, "permission_denied")
    assert "CSRF" in refused.json()["error"]["message"]


def test_hostile_input_is_never_a_500(olivia):
    board(olivia, 1)
    deal = seed_deal(code="Z-1", name="Trust\x00", loans=["L001"], holders=[
        {"code": "INV-01", "class": "A", "face": "100000.00"}], classes=[
        {"name": "A", "face": "100000.00", "coupon": "net-wac", "principal": "pro-rata"}])
    answers = [
        olivia.get("/api/v1/loans/%00/"), olivia.get("/api/v1/trusts/X%1F/classes/"),
        olivia.get("/api/v1/events/99999999999999999999/"), olivia.get("/api/v1/loans/", {"page": 10**20}),
        olivia.get("/api/v1/events/", {"cursor": "garbage"}), olivia.get("/api/v1/loans/", {"search": "\x00"}),
        olivia.get("/api/v1/events/", {"stream": "x" * 5000}),
        olivia.post("/api/v1/tapes/", {"file": upload(tape({"loan_number": "L050", "borrower_name": "A\x00B"}))},
                    format="multipart"),
        olivia.post("/api/v1/payment-files/", {"file": upload(b"\xff\xfe not utf-8")}, format="multipart"),
        olivia.post("/api/v1/trusts/", deal), olivia.post("/api/v1/trusts/", {"code": {"nested": [1, None]}}),
        olivia.post("/api/v1/trusts/", {"file": upload(json.dumps(deal).encode(), "deal.json")}, format="multipart"),
        olivia.post("/api/v1/payments/", {**PAYMENT, "reference": "R\x00"}),
    ]
    statuses = [a.status_code for a in answers]
    assert all(status < 500 for status in statuses), [a.content[:150] for a in answers]
    assert statuses.count(200) == 1  # only the long stream name, which simply matches nothing
