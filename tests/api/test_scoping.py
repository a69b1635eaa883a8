"""Object scoping: an investor sees their own rows and their deals, and nothing else exists for them.

Alice is INV-01 (holds XYZ-2026-1); Bob is INV-02 (holds XYZ-2026-1 and
ABC-2026-2). Everything of Bob's, and the deal Alice does not hold, answers
Alice exactly as something that does not exist: 404 with the same body.
"""
from datetime import date

import pytest

from remittance.models import Distribution
from tests.api.conftest import SECOND_TRUST, login
from tests.integration.trusts.deals import TRUST, transfer
from trusts.models import HoldingMovement

pytestmark = pytest.mark.django_db

NOT_FOUND = {"error": {"code": "not_found", "message": "Not found.", "fields": {}}}
MISSING_ID = 987_654_321

# Every endpoint under a trust, for a trust code and a period.
TRUST_ENDPOINTS = [
    "/api/v1/trusts/{code}/", "/api/v1/trusts/{code}/classes/", "/api/v1/trusts/{code}/factors/",
    "/api/v1/trusts/{code}/payment-dates/", "/api/v1/trusts/{code}/reports/2026-02/",
    "/api/v1/trusts/{code}/reports/2026-02/?format=csv", "/api/v1/trusts/{code}/projections/?psa=100,200",
    "/api/v1/trusts/{code}/speeds/",
]
# Every operations endpoint, with a real object where it takes one.
OPERATIONS_ENDPOINTS = [
    ("get", "/api/v1/loans/"), ("get", "/api/v1/loans/L001/"), ("get", "/api/v1/loans/NOPE/"),
    ("get", "/api/v1/loans/L001/events/"), ("get", "/api/v1/events/"), ("get", "/api/v1/events/1/"),
    ("post", "/api/v1/payments/"), ("post", "/api/v1/payment-files/"), ("post", "/api/v1/tapes/"),
    ("post", "/api/v1/trusts/"), ("get", f"/api/v1/trusts/{TRUST}/periods/2026-02/"),
    ("get", f"/api/v1/trusts/{SECOND_TRUST}/periods/2026-02/"), ("post", f"/api/v1/trusts/{TRUST}/periods/2026-03/close/"),
]


def ids(rows, holder_code: str) -> set[int]:
    """The ids of a holder's rows, from a model or a queryset."""
    rows = rows.objects.all() if hasattr(rows, "objects") else rows
    return set(rows.filter(holder__code=holder_code).values_list("id", flat=True))


def listed(client, url: str, key: str = "id", **params) -> set:
    response = client.get(url, {"page_size": 500, **params})
    assert response.status_code == 200, response.content
    return {row[key] for row in response.json()["results"]}


def assert_not_found(response):
    assert response.status_code == 404, (response.status_code, response.content)
    assert response.json() == NOT_FOUND


def test_another_investors_rows_do_not_exist_for_an_investor(alice, bob):
    bobs = {"distributions": ids(Distribution, "INV-02"), "register": ids(HoldingMovement, "INV-02")}
    assert bobs["distributions"] and bobs["register"]
    for endpoint in ("distributions", "register"):
        for object_id in [*bobs["distributions"], *bobs["register"], MISSING_ID]:
            mine = ids(Distribution if endpoint == "distributions" else HoldingMovement, "INV-01")
            if object_id in mine:
                continue  # one table's id may be the other's; Alice's own rows are hers to see
            assert_not_found(alice.get(f"/api/v1/me/{endpoint}/{object_id}/"))
    for object_id in ids(Distribution, "INV-01"):
        assert alice.get(f"/api/v1/me/distributions/{object_id}/").status_code == 200


def test_a_deal_not_held_does_not_exist_for_an_investor(alice, bob):
    for url in TRUST_ENDPOINTS:
        assert_not_found(alice.get(url.format(code=SECOND_TRUST)))
        assert_not_found(alice.get(url.format(code="NO-SUCH-TRUST")))
        assert alice.get(url.format(code=TRUST)).status_code == 200
        assert bob.get(url.format(code=SECOND_TRUST)).status_code == 200


def test_lists_hold_exactly_the_callers_rows(alice, bob):
    for client, code in ((alice, "INV-01"), (bob, "INV-02")):
        assert listed(client, "/api/v1/me/distributions/") == ids(Distribution, code)
        assert listed(client, "/api/v1/me/register/") == ids(HoldingMovement, code)
    assert listed(alice, "/api/v1/trusts/", "code") == {TRUST}
    assert listed(bob, "/api/v1/trusts/", "code") == {TRUST, SECOND_TRUST}
    assert listed(alice, "/api/v1/me/holdings/", "trust") == {TRUST}
    assert listed(bob, "/api/v1/me/holdings/", "trust") == {TRUST, SECOND_TRUST}
    assert listed(bob, "/api/v1/me/holdings/", "trust", trust=SECOND_TRUST) == {SECOND_TRUST}
    assert listed(bob, "/api/v1/me/register/", "trust", **{"class": "A", "trust": TRUST}) == {TRUST}


def test_a_holder_named_in_the_request_is_ignored(alice, bob):
    """Only the login decides whose data it is: query parameters naming another holder change nothing."""
    own = alice.get("/api/v1/me/statements/2026-02/").json()
    for params in ({"holder": "INV-02"}, {"holder_code": "INV-02"}, {"holder_id": 2}):
        assert alice.get("/api/v1/me/statements/2026-02/", params).json() == own
        assert listed(alice, "/api/v1/me/distributions/", **params) == ids(Distribution, "INV-01")
    assert own["holder"]["code"] == "INV-01"
    # Bob's ABC-2026-2 distribution is on his statement, and filtering Alice's by it finds nothing.
    assert {line["trust"] for line in bob.get("/api/v1/me/statements/2026-02/").json()["distributions"]} == {
        TRUST, SECOND_TRUST}
    assert listed(alice, "/api/v1/me/distributions/", trust=SECOND_TRUST) == set()
    assert listed(bob, "/api/v1/me/distributions/", trust=SECOND_TRUST) == ids(
        Distribution.objects.filter(security_class__trust__code=SECOND_TRUST), "INV-02")


def test_a_statement_for_a_period_without_distributions_does_not_exist(alice):
    response = alice.get("/api/v1/me/statements/2026-03/")
    assert response.status_code == 404 and response.json()["error"]["code"] == "report_unavailable"


def test_an_investor_is_refused_every_operations_endpoint(alice):
    for method, url in OPERATIONS_ENDPOINTS:
        response = getattr(alice, method)(url, {"status": "closed"} if method == "post" else None)
        assert response.status_code == 403, (method, url, response.content)
        assert response.json()["error"]["code"] == "permission_denied"


def test_a_login_without_a_role_sees_no_investor_data_and_no_deals(deals, nora):
    for url in ("/api/v1/me/holdings/", "/api/v1/me/distributions/", "/api/v1/me/register/",
                "/api/v1/me/statements/2026-02/"):
        assert nora.get(url).status_code == 403
    assert listed(nora, "/api/v1/trusts/", "code") == set()
    assert_not_found(nora.get(f"/api/v1/trusts/{TRUST}/"))
    assert nora.get("/api/v1/me/").json() == {"username": "nora", "holder_code": None, "holder_name": None,
                                              "roles": []}


def test_anonymous_callers_get_only_the_schema_docs_and_token_endpoint(deals, anonymous):
    for url in ("/api/v1/me/", "/api/v1/me/holdings/", "/api/v1/trusts/", f"/api/v1/trusts/{TRUST}/",
                "/api/v1/loans/", "/api/v1/events/"):
        response = anonymous.get(url)
        assert response.status_code == 401 and response.json()["error"]["code"] == "not_authenticated"
    assert anonymous.get("/api/v1/schema/").status_code == 200
    assert anonymous.get("/api/v1/docs/").status_code == 200


def test_operations_staff_see_every_deal(deals, olivia):
    assert listed(olivia, "/api/v1/trusts/", "code") == {TRUST, SECOND_TRUST}
    assert olivia.get(f"/api/v1/trusts/{SECOND_TRUST}/reports/2026-02/").status_code == 200


def test_holdings_as_of_a_date_and_deals_held_in_the_past(deals):
    transfer(from_holder="INV-01", to_holder="INV-03", face_cents=10_000_000, trade_date=date(2026, 3, 30),
             settlement_date=date(2026, 4, 1))
    alice = login("alice", holder="INV-01")

    def holdings(as_of):
        return alice.get("/api/v1/me/holdings/", {"as_of": as_of}).json()["results"]

    assert holdings("2026-01-14") == []
    assert holdings("2026-03-04") == [{"trust": TRUST, "class": "A", "original_face": "100000.00",
                                       "factor": "1.00000000", "factor_period": None, "factor_payment_date": None,
                                       "current_face": "100000.00"}]
    assert holdings("2026-03-25")[0]["factor"] == "0.99900450"
    assert (holdings("2026-03-25")[0]["factor_period"], holdings("2026-03-25")[0]["factor_payment_date"]) == (
        "2026-02", "2026-03-25")
    assert holdings("2026-03-25")[0]["current_face"] == "99900.45"
    assert holdings("2026-04-01") == holdings("2026-11-01") == []
    # Sold out of the deal, Alice still sees it (she held it) and her February statement.
    assert alice.get(f"/api/v1/trusts/{TRUST}/").status_code == 200
    assert alice.get("/api/v1/me/statements/2026-02/").status_code == 200
    assert alice.get("/api/v1/me/holdings/", {"as_of": "not-a-date"}).status_code == 400
