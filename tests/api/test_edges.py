"""Edges an attacker or a careless client hits: oversized and ambiguous bodies, unknown paths, NULs, crashes.

Each is answered in the API's one error shape with a 4xx naming the problem
(a crash, 500 in the same shape), and never Django's HTML pages.
"""
import json
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.http import HttpResponse, HttpResponseNotAllowed
from django.test import RequestFactory
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from api import errors
from ledger.models import Event
from remittance.models import ClassPeriod, PeriodResult
from tests.api.conftest import SECOND_TRUST
from tests.api.test_contract import assert_one_shape
from tests.api.test_operations import PAYMENT, board
from tests.integration.trusts.deals import TRUST

pytestmark = pytest.mark.django_db


def oversized_json(settings) -> bytes:
    filler = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    return json.dumps({"username": filler, "password": "y"}).encode()


def test_a_json_body_over_the_limit_is_a_413_for_anyone(olivia, anonymous, settings):
    body = oversized_json(settings)
    for client, url in ((anonymous, "/api/v1/auth/token/"), (olivia, "/api/v1/payments/"),
                        (olivia, "/api/v1/trusts/")):
        answer = client.generic("POST", url, body, content_type="application/json")
        assert_one_shape(answer, 413, "too_large")
        assert str(settings.DATA_UPLOAD_MAX_MEMORY_SIZE) in answer.json()["error"]["message"]


def test_too_many_form_fields_is_a_400_not_a_500(anonymous, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 5
    body = "&".join(f"f{i}=1" for i in range(10))
    answer = anonymous.generic("POST", "/api/v1/auth/token/", body,
                               content_type="application/x-www-form-urlencoded")
    assert_one_shape(answer, 400, "bad_request")


@pytest.mark.parametrize("debug", [False, True])
def test_an_unknown_api_path_is_a_json_404_even_with_debug_on(alice, anonymous, settings, debug):
    settings.DEBUG = debug  # DEBUG (the development default) would answer Django's HTML debug page
    for client in (alice, anonymous):
        for path in ("/api/v1/nothing-here/", "/api/", "/api/v2/loans/", "/api/v1/trusts/X/nothing/"):
            assert_one_shape(client.get(path), 404, "not_found")
    assert "<html" in APIClient().get("/nothing-here/").content.decode().lower()  # outside /api/: a page


@pytest.mark.parametrize("debug", [False, True])
def test_a_crash_outside_a_view_is_a_json_500(olivia, settings, monkeypatch, debug):
    settings.DEBUG = debug

    def crash(self, request, *args, **kwargs):
        raise RuntimeError("secret internals")

    # Before the view's own error handling starts: Django answers it, not DRF.
    monkeypatch.setattr(APIView, "initialize_request", crash)
    client = APIClient(raise_request_exception=False)
    client.credentials(**olivia._credentials)
    answer = client.post("/api/v1/payments/", PAYMENT, format="json")
    assert_one_shape(answer, 500, "server_error")
    assert "secret" not in answer.content.decode()


def test_django_error_pages_under_api_keep_their_status_and_headers():
    request = RequestFactory().put("/api/v1/payments/")
    middleware = errors.ApiErrorShapeMiddleware(lambda r: HttpResponseNotAllowed(["GET", "POST"]))
    answer = middleware(request)
    assert answer.status_code == 405 and answer["Allow"] == "GET, POST"
    assert json.loads(answer.content)["error"]["code"] == "method_not_allowed"
    # Elsewhere, and for answers that are not errors, nothing changes.
    page = HttpResponse("<h1>gone</h1>", status=404)
    assert errors.ApiErrorShapeMiddleware(lambda r: page)(RequestFactory().get("/admin/x/")) is page
    ok = HttpResponse("fine")
    assert errors.ApiErrorShapeMiddleware(lambda r: ok)(RequestFactory().get("/api/v1/me/")) is ok


def test_the_browsable_apis_error_pages_stay_html(alice):
    page = alice.get("/api/v1/loans/", HTTP_ACCEPT="text/html")
    assert page.status_code == 403 and page["Content-Type"].startswith("text/html")


DUPLICATED_AMOUNT = ('{"loan_number": "L001", "amount": "1.00", "amount": "849.55", "received_on": "2026-02-01", '
                     '"reference": "DUP-1"}')


def test_a_json_key_given_twice_is_refused_naming_it(olivia, anonymous, alice):
    events_before = Event.objects.count()
    for client, url, body in (
        (olivia, "/api/v1/payments/", DUPLICATED_AMOUNT),
        (olivia, "/api/v1/trusts/", '{"code": "Z-1", "classes": [{"name": "A", "name": "B"}]}'),
        (anonymous, "/api/v1/auth/token/", '{"username": "x", "password": "y", "username": "z"}'),
        (olivia, "/api/v1/trusts/XYZ-2026-1/periods/2026-03/close/", '{"a": 1, "a": 1}'),
    ):
        answer = client.generic("POST", url, body, content_type="application/json")
        assert_one_shape(answer, 400, "parse_error")
        assert "twice" in answer.json()["error"]["message"], answer.json()
    assert "'amount'" in olivia.generic("POST", "/api/v1/payments/", DUPLICATED_AMOUNT,
                                        content_type="application/json").json()["error"]["message"]
    assert Event.objects.count() == events_before


def test_equal_keys_in_different_objects_are_fine(olivia):
    body = '{"code": "Z-1", "classes": [{"name": "A"}, {"name": "B"}], "name": "x"}'
    answer = olivia.generic("POST", "/api/v1/trusts/", body, content_type="application/json")
    assert answer.status_code in (400, 422) and answer.json()["error"]["code"] != "parse_error"


def paid_off():
    """Every class and pool of the closed February at factor 0, as a class paid off in full is stored."""
    ClassPeriod.objects.update(factor=Decimal(0), balance_end_cents=0)
    PeriodResult.objects.update(pool_factor=Decimal(0), pool_balance_end_cents=0)


def factors_in(value, key=""):
    if isinstance(value, dict):
        for k, v in value.items():
            yield from factors_in(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from factors_in(v, key)
    elif key.endswith("factor"):
        yield value


def test_a_paid_off_class_has_factor_0_00000000_never_0e_8(alice, olivia):
    paid_off()
    found = []
    for client, url in ((alice, "/api/v1/trusts/"), (alice, f"/api/v1/trusts/{TRUST}/"),
                        (alice, f"/api/v1/trusts/{TRUST}/classes/"), (alice, f"/api/v1/trusts/{TRUST}/factors/"),
                        (alice, "/api/v1/me/holdings/?as_of=2026-03-31"),
                        (alice, "/api/v1/me/statements/2026-02/"),
                        (olivia, f"/api/v1/trusts/{TRUST}/periods/2026-02/")):
        answer = client.get(url)
        assert answer.status_code == 200, (url, answer.content)
        assert "E-" not in answer.content.decode(), url
        found += [(url, f) for f in factors_in(answer.json())]
    assert {f for _, f in found} == {"0.00000000"}, found
    assert {url for url, _ in found} >= {f"/api/v1/trusts/{TRUST}/classes/", f"/api/v1/trusts/{TRUST}/periods/2026-02/"}


def test_a_reference_that_only_looks_like_another_is_refused_not_posted_twice(olivia):
    board(olivia, 1)
    first = olivia.post("/api/v1/payments/", {**PAYMENT, "reference": "REF1"})
    assert first.status_code == 201, first.content
    for lookalike in ("REF1\u200b", "\ufeffREF1", "REF\u20281", "REF\u00a01"):
        again = olivia.post("/api/v1/payments/", {**PAYMENT, "reference": lookalike})
        assert_one_shape(again, 422, "refused")
        assert "does not show on screen" in again.json()["error"]["message"]
    assert Event.objects.filter(event_type="PaymentPosted").count() == 1


PROJECTIONS = f"/api/v1/trusts/{TRUST}/projections/"


def test_projections_are_throttled_per_user_by_the_scenarios_they_ask_for(alice, bob, monkeypatch):
    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "analytics", "4/minute")
    for _ in range(2):
        assert alice.get(PROJECTIONS).status_code == 200  # one scenario each
    assert alice.get(PROJECTIONS, {"psa": "100,200"}).status_code == 200  # two: the budget of 4 is used up
    throttled = alice.get(PROJECTIONS)
    assert_one_shape(throttled, 429, "throttled")
    assert int(throttled["Retry-After"]) > 0
    assert bob.get(f"/api/v1/trusts/{SECOND_TRUST}/projections/", {"psa": "100,200,300"}).status_code == 200
    # A grid costs its speeds: three more would pass a count of requests, not of scenarios.
    assert_one_shape(bob.get(f"/api/v1/trusts/{SECOND_TRUST}/projections/", {"psa": "100,200"}), 429, "throttled")
    assert alice.get("/api/v1/me/").status_code == 200  # the cheap reads are not counted


def test_a_user_runs_one_projection_at_a_time(alice, bob):
    cache.add(f"throttle_running_projection_{User.objects.get(username='alice').pk}", 1, 60)  # one running
    assert_one_shape(alice.get(PROJECTIONS), 429, "busy")
    assert bob.get(f"/api/v1/trusts/{SECOND_TRUST}/projections/").status_code == 200
    cache.clear()
    assert alice.get(PROJECTIONS).status_code == 200
    assert alice.get(PROJECTIONS).status_code == 200  # the first one's turn ended with it


def test_projection_parameters_are_bounded_in_length(alice):
    for name, value in (("cdr", ",".join(["1"] * 3000)), ("severity", "1" * 100), ("psa", "1" * 300)):
        answer = alice.get(PROJECTIONS, {name: value, **({"severity": "30", "lag": "6"} if name == "cdr" else {})})
        assert_one_shape(answer, 400, "invalid")
        assert name in answer.json()["error"]["fields"]


def test_the_factor_field_writes_fixed_point_too():
    from decimal import Decimal

    from api.fields import FactorField

    assert FactorField().to_representation(Decimal(0)) == "0.00000000"
    assert FactorField().to_representation(Decimal("0.99900450")) == "0.99900450"


def test_the_loan_filter_offers_exactly_the_mba_buckets_of_the_servicing():
    from api.filters import LoanFilter
    from servicing.domain.delinquency_status import MBA_BUCKETS

    choices = LoanFilter.base_filters["delinquency_bucket"].extra["choices"]
    assert [value for value, _label in choices] == list(MBA_BUCKETS) == ["current", "30", "60", "90+"]
