"""The investor's lists cost the same number of queries whatever their length.

Bob (INV-02) holds two classes (XYZ-2026-1 A and ABC-2026-2 A) and was paid
on each for February: 2 holdings, 2 distributions. INV-40 holds all forty
classes of a third deal, MANY-2026-3, closed for February: 40 holdings, 40
distributions. Both lists answer each of them in the same queries, one page
of 50 holding every row.
"""
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework import serializers

from api.serializers.investor import DistributionSerializer, HoldingSerializer
from tests.api.conftest import login
from tests.integration.remittance.months import close, pay_everyone
from tests.integration.servicing.tapes import board
from tests.integration.trusts.deals import form, seed_deal

pytestmark = pytest.mark.django_db

MANY_TRUST = "MANY-2026-3"
CLASSES = 40

# The queries of a page, whatever its length: the token with its login and holder (one join),
# then the page; a page shorter than the page size gives the total itself (api.pagination).
# The distributions' third query reads the page's classes' losses (the holder's share of each, shown as `loss`).
EXPECTED_QUERIES = {"/api/v1/me/distributions/": 3, "/api/v1/me/holdings/": 2}


def many_classes_deal():
    """Two new loans' $200,000 pool in forty pro-rata classes of $5,000.00, all held by INV-40."""
    return seed_deal(
        code=MANY_TRUST, name="Many Classes Trust 2026-3", loans=["L013", "L014"], first_payment_date="2026-03-25",
        classes=[{"name": f"C{n:02d}", "face": "5000.00", "coupon": "net-wac", "principal": "pro-rata",
                  "denomination": "1000.00"} for n in range(1, CLASSES + 1)],
        holders=[{"code": "INV-40", "name": "Investor 40", "class": f"C{n:02d}", "face": "5000.00"}
                 for n in range(1, CLASSES + 1)],
    )


@pytest.fixture
def many(deals):
    """INV-40's login, after MANY-2026-3 was formed, paid for February and closed."""
    board({"loan_number": "L013"}, {"loan_number": "L014"})
    form(many_classes_deal())
    pay_everyone("2026-02", loans=["L013", "L014"])
    close("2026-02", trust=MANY_TRUST)
    return login("many", holder="INV-40")


def queries(client, url: str) -> tuple[int, dict]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, {"page_size": 50, "as_of": "2026-03-25"})
    assert response.status_code == 200, response.content
    return len(captured), response.json()


@pytest.mark.parametrize("url", sorted(EXPECTED_QUERIES))
def test_a_list_costs_the_same_queries_for_2_rows_and_for_40(bob, many, url):
    few, few_page = queries(bob, url)
    lots, lots_page = queries(many, url)
    assert (few_page["count"], len(few_page["results"])) == (2, 2)
    assert (lots_page["count"], len(lots_page["results"])) == (CLASSES, CLASSES)
    assert few == lots == EXPECTED_QUERIES[url]


@pytest.mark.parametrize("url", sorted(EXPECTED_QUERIES))
def test_pages_of_a_long_list_count_it_only_when_they_must(many, url):
    """40 rows by 15: a full page counts (one query more), the short last page gives the total itself."""
    pages = []
    for number in (1, 2, 3):
        with CaptureQueriesContext(connection) as captured:
            pages.append(many.get(url, {"page_size": 15, "page": number, "as_of": "2026-03-25"}).json())
        assert len(captured) == EXPECTED_QUERIES[url] + (1 if number < 3 else 0)
    assert [p["count"] for p in pages] == [CLASSES] * 3
    assert [len(p["results"]) for p in pages] == [15, 15, 10]
    assert [bool(p["next"]) for p in pages] == [True, True, False]
    assert [bool(p["previous"]) for p in pages] == [False, True, True]
    assert sorted(r["class"] for p in pages for r in p["results"]) == [f"C{n:02d}" for n in range(1, CLASSES + 1)]
    # Past the end is a 404 as before, and the last page by its name still works.
    assert many.get(url, {"page_size": 15, "page": 4, "as_of": "2026-03-25"}).status_code == 404
    assert many.get(url, {"page_size": 15, "page": "last", "as_of": "2026-03-25"}).json() == pages[2]
    assert many.get(url, {"page_size": 15, "page": 0}).status_code == 404


def test_the_filters_still_apply(many):
    c07 = many.get("/api/v1/me/distributions/", {"class": "C07", "period_from": "2026-02"}).json()
    assert c07["count"] == 1 and c07["results"][0]["class"] == "C07" and c07["results"][0]["trust"] == MANY_TRUST
    row = c07["results"][0]
    assert Decimal(row["total"]) == Decimal(row["interest"]) + Decimal(row["principal"]) > 0
    assert many.get(f"/api/v1/me/distributions/{row['id']}/").json() == row
    assert many.get("/api/v1/me/distributions/", {"period_from": "2026-03"}).json()["count"] == 0
    assert many.get("/api/v1/me/holdings/", {"trust": MANY_TRUST, "as_of": "2026-03-25"}).json()["count"] == CLASSES


class _GenericDistribution(DistributionSerializer):
    to_representation = serializers.Serializer.to_representation


class _GenericHolding(HoldingSerializer):
    to_representation = serializers.Serializer.to_representation


def test_the_flat_rows_render_exactly_as_drf_would(bob, many):
    """FlatRowSerializer (the lists' fast path) gives what DRF's own Serializer gives, row for row."""
    from api.views.investor import DistributionViewSet, HoldingsView
    from trusts.models import Holder

    for code in ("INV-02", "INV-40"):
        holder = Holder.objects.get(code=code)
        for view_class, generic in ((DistributionViewSet, _GenericDistribution), (HoldingsView, _GenericHolding)):
            # The view's own queryset, for the request IsInvestor would have let through.
            view = view_class(request=SimpleNamespace(holder=holder, query_params={"as_of": "2026-03-25"}))
            rows = list(view.get_queryset())
            assert rows
            assert view_class.serializer_class(rows, many=True).data == generic(rows, many=True).data
